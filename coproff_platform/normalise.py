"""Pure normalisers: raw source text → typed, normalised values.

Every function takes the raw string (or None) and returns the normalised value, `None` for the
placeholders the sources use for "unknown" (`""`, `non connu`, `NA`, ...), or raises `Invalid`
with a reason code and a readable detail. No I/O here: the loaders, the generator's tests and the
SQL-model tests can all rely on the same rules.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from coproff_platform import reference


class Invalid(ValueError):
    """A raw value that cannot be normalised; `reason` is a stable reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# Placeholders meaning "no value" in RNIC, DPE, DVF, LOVAC and R/Excel exports of them, compared
# stripped and lowercased: dbt_like_sql/reference/valeurs_manquantes.csv; the empty string is
# always missing.
MISSING = frozenset({""} | {r.valeur for r in reference.table("valeurs_manquantes")})


_MISSING_EXACT = MISSING | {m.upper() for m in MISSING} | {m.capitalize() for m in MISSING} | {"NA", "NaN"}
_MISSING_MAX = max(len(m) for m in MISSING)


def is_missing(raw: str | None) -> bool:
    # Hot path (tens of calls per row): exact set lookup first, normalise only when needed.
    if raw is None or raw in _MISSING_EXACT:
        return True
    if raw[0].isspace() or raw[-1].isspace():
        return raw.strip().lower() in MISSING
    return len(raw) <= _MISSING_MAX and raw.lower() in MISSING


def text(raw: str | None) -> str | None:
    """Trimmed text with inner runs of whitespace collapsed; placeholders → None."""
    if is_missing(raw):
        return None
    return " ".join(raw.split())


def address(raw: str | None) -> str | None:
    """Text without the trailing commas real RNIC addresses carry."""
    value = text(raw)
    if value is None:
        return None
    value = value.rstrip(", ").strip()
    return value or None


def normalise_name(name: str) -> str:
    """Header name → key: lowercase, accents stripped, anything else than [a-z0-9] → `_`."""
    decomposed = unicodedata.normalize("NFKD", name)
    ascii_ = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", ascii_).strip("_")


# -- registration number -----------------------------------------------------------------------
_NUM_IMMAT = re.compile(r"^[A-Z]{2}[0-9]{7}$")


def num_immat(raw: str | None) -> str | None:
    """RNIC registration number: 2 capital letters + 7 digits; `AAN-NNN-NNN` accepted."""
    if is_missing(raw):
        return None
    value = re.sub(r"[\s\-.]", "", raw)
    # ASCII only: `ß`.upper() is `SS`, and the registry's numbers are ASCII (the SQL twin agrees).
    value = value.upper() if value.isascii() else value
    if not _NUM_IMMAT.fullmatch(value):
        raise Invalid("num_immat_invalide", f"registration number {raw!r} is not 2 letters + 7 digits")
    return value


# -- cadastral references ----------------------------------------------------------------------
# Paris, Lyon, Marseille: the registry writes the whole-commune code and the arrondissement in the
# préfixe; the cadastre and the Fichiers fonciers use the arrondissement code with préfixe 000.
# dbt_like_sql/reference/arrondissements_plm.csv: commune → range of arrondissement préfixes.
PLM_ARRONDISSEMENTS: dict[str, range] = {
    r.code_commune: range(r.prefixe_min, r.prefixe_max + 1) for r in reference.table("arrondissements_plm")
}
_INSEE = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3})$")
_SECTION = re.compile(r"^[0-9A-Z]{2}$")


def insee(raw: str | None) -> str | None:
    """Commune code (5 chars, Corsica 2A/2B); a lost leading zero (`1053`) is restored."""
    if is_missing(raw):
        return None
    value = raw.strip().upper()
    if value.endswith(".0"):
        value = value[:-2]
    if _digits(value) and len(value) == 4:
        value = "0" + value
    if not _INSEE.fullmatch(value):
        raise Invalid("code_insee_invalide", f"commune code {raw!r} is not a 5-character INSEE code")
    return value


_COMPONENT_MISSING = frozenset({""} | {r.valeur for r in reference.table("valeurs_manquantes") if r.composante_cadastrale})


def _digits(value: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts `²` and `١`, which no source writes."""
    return value.isascii() and value.isdigit()


def idpar_from_parts(code_insee: str | None, prefixe: str | None, section: str | None,
                     numero: str | None) -> str | None:
    """FF `idpar` from a reference's components; None when any component is missing."""
    # `NA` is a real cadastral section here, not R's missing value: only blanks and `non connu`.
    if any(p is None or p.strip().lower() in _COMPONENT_MISSING for p in (code_insee, prefixe, section, numero)):
        return None
    commune = insee(code_insee)
    if commune is None:  # `NA`, `null`...: a missing commune, not a crash of the whole load
        return None
    pre = prefixe.strip()
    sec = section.strip()
    sec = sec.upper() if sec.isascii() else sec  # `ß`.upper() is `SS`: not a section
    num = numero.strip()
    if not _digits(pre) or len(pre) > 3:
        raise Invalid("reference_cadastrale_invalide", f"préfixe {prefixe!r} is not 3 digits")
    pre = pre.zfill(3)
    if len(sec) == 1:
        sec = "0" + sec  # one-letter sections are left-padded with 0 in idpar
    if not _SECTION.fullmatch(sec):
        raise Invalid("reference_cadastrale_invalide", f"section {section!r} is not 1–2 characters")
    if not _digits(num) or len(num) > 4:
        raise Invalid("reference_cadastrale_invalide", f"numéro de parcelle {numero!r} is not 1–4 digits")
    num = num.zfill(4)
    arr = PLM_ARRONDISSEMENTS.get(commune)
    if arr is not None and int(pre) in arr:
        commune, pre = commune[:2] + pre, "000"
    return commune + pre + sec + num


def idpar(raw: str | None) -> str | None:
    """A 14-character cadastral reference in FF `idpar` form (Paris/Lyon/Marseille included).

    Also accepts the 13-character form where a one-letter section lost its padding.
    """
    if raw is None or raw.strip().lower() in _COMPONENT_MISSING:
        return None
    value = raw.strip()
    if not value.isascii():  # `ß`.upper() is `SS`: a reference is ASCII (the SQL twin agrees)
        raise Invalid("reference_cadastrale_invalide", f"cadastral reference {raw!r} is not ASCII")
    value = value.upper().replace(" ", "0")
    if len(value) == 13 and value[8].isalpha() and value[9].isdigit():
        value = value[:8] + "0" + value[8:]
    if len(value) != 14:
        raise Invalid("reference_cadastrale_invalide", f"cadastral reference {raw!r} is not 14 characters")
    try:
        return idpar_from_parts(value[:5], value[5:8], value[8:10], value[10:])
    except Invalid as exc:
        raise Invalid(exc.reason, f"cadastral reference {raw!r}: {exc.detail}") from None


def idpar_ref_or_parts(ref: str | None, code_insee: str | None, prefixe: str | None,
                       section: str | None, numero: str | None) -> str | None:
    """RNIC reference N: the full reference when filled, else built from its components.

    A malformed full reference falls back to its components when they make a valid idpar (real
    rows fill both; the components are then the readable part). The letter O written for the
    padding zero of a one-letter section (`93010000OQ0025`) is kept as written: `OQ` may be a real
    section, and the matching (tup_match.sql, rule 1-O) reads both forms against the parcels.
    """
    if ref is not None and ref.strip().lower() not in _COMPONENT_MISSING:
        try:
            return idpar(ref)
        except Invalid:
            try:
                from_parts = idpar_from_parts(code_insee, prefixe, section, numero)
            except Invalid:
                from_parts = None
            if from_parts is None:
                raise
            return from_parts
    return idpar_from_parts(code_insee, prefixe, section, numero)


def departement_of_insee(code: str) -> str:
    return code[:3] if code.startswith("97") else code[:2]


# -- enumerations --------------------------------------------------------------------------------
# Read from the reference layer (dbt_like_sql/reference/periodes_construction.csv and
# valeurs_periode_inconnue.csv): the SQL models join the same rows as ref.<table>.
PERIODS = reference.periods()
PERIOD_BOUNDS: dict[str, tuple[int | None, int | None]] = reference.period_bounds()
_UNKNOWN_PERIODS = reference.unknown_period_values()


def period(raw: str | None) -> str | None:
    """RNIC construction period, codes as in the current file; labels (`Avant 1949`) accepted."""
    if is_missing(raw):
        return None
    code = normalise_name(raw).upper()
    if code in _UNKNOWN_PERIODS:
        return None
    if code in PERIOD_BOUNDS:
        return code
    raise Invalid("periode_inconnue", f"construction period {raw!r} is not one of {', '.join(PERIODS)}")


# dbt_like_sql/reference/valeurs_booleennes.csv
_TRUE = frozenset(r.valeur for r in reference.table("valeurs_booleennes") if r.booleen)
_FALSE = frozenset(r.valeur for r in reference.table("valeurs_booleennes") if not r.booleen)


def boolean(raw: str | None) -> bool | None:
    """`oui`/`non`, `Oui`/`Non`, `0`/`1`, `true`/`false`; placeholders → None."""
    if is_missing(raw):
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise Invalid("booleen_invalide", f"{raw!r} is not a yes/no value")


# ASCII digits (`\d` would take `٢٠٢٠`); `.` stops at a newline, as the SQL twin's `[^\n]`.
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$", re.ASCII)
_FR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: .*)?$", re.ASCII)


def date(raw: str | None) -> dt.date | None:
    """ISO `YYYY-MM-DD` (a time part is ignored) or French `dd/mm/YYYY`."""
    if is_missing(raw):
        return None
    value = raw.strip()
    m = _ISO.match(value)
    try:
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        m = _FR.match(value)
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        pass
    raise Invalid("date_invalide", f"{raw!r} is not a date (YYYY-MM-DD or dd/mm/YYYY)")


# What a number may look like once spaces are removed and the comma is a point: ASCII digits, an
# optional sign, fraction and exponent (at most 3 digits). Decimal() and float() would also take
# `1_000`, `inf`, `nan`, `١٢` and 10^99999.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_WHOLE = re.compile(r"-?[0-9]+")


def _number_text(raw: str) -> str:
    # Decimal comma (DGFiP, French Excel) and thousands spaces.
    return raw.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")


def decimal(raw: str | None) -> Decimal | None:
    """A decimal number; `8000,00` (decimal comma) accepted."""
    if is_missing(raw):
        return None
    text_ = _number_text(raw)
    if not _NUMBER.fullmatch(text_):
        raise Invalid("nombre_invalide", f"{raw!r} is not a number")
    try:
        value = Decimal(text_)
    except InvalidOperation:
        raise Invalid("nombre_invalide", f"{raw!r} is not a number") from None
    if not value.is_finite():
        raise Invalid("nombre_invalide", f"{raw!r} is not a finite number")
    return value


def integer(raw: str | None) -> int | None:
    """A whole number; `12.0` accepted (spreadsheet exports), `12.5` rejected."""
    if is_missing(raw):
        return None
    value = _number_text(raw)
    if _WHOLE.fullmatch(value):
        return int(value)
    number = decimal(raw)
    if number is None or number != number.to_integral_value():
        raise Invalid("nombre_invalide", f"{raw!r} is not a whole number")
    return int(number)


def coordinate(raw: str | None) -> float | None:
    if is_missing(raw):
        return None
    text_ = _number_text(raw)
    try:
        if not _NUMBER.fullmatch(text_):
            raise ValueError(text_)
        value = float(text_)
    except ValueError:
        raise Invalid("coordonnee_invalide", f"{raw!r} is not a coordinate") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise Invalid("coordonnee_invalide", f"{raw!r} is not a finite coordinate")
    return value


def postcode(raw: str | None) -> str | None:
    """5-digit postcode; the leading zero lost by numeric exports (`1000` → `01000`) is restored."""
    if is_missing(raw):
        return None
    value = raw.strip()
    if value.endswith(".0"):
        value = value[:-2]
    if _digits(value) and 3 <= len(value) <= 5:
        return value.zfill(5)
    raise Invalid("code_postal_invalide", f"postcode {raw!r} is not 5 digits")


def departement(raw: str | None) -> str | None:
    """Département code: `1` → `01`, `2A`, `974`."""
    if is_missing(raw):
        return None
    value = raw.strip().upper()
    if _digits(value) and len(value) == 1:
        value = "0" + value
    if re.fullmatch(r"(?:[0-9]{2}|2[AB]|97[1-8])", value):
        return value
    raise Invalid("departement_invalide", f"département code {raw!r} is not valid")


def departements_of_postcode(code: str) -> frozenset[str]:
    """Départements a postcode can belong to (Corsica's 20xxx → 2A or 2B; 97133 → 971 or 977):
    the prefixes of dbt_like_sql/reference/territoires.csv."""
    return reference.departements_of_postcode(code)


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a digit string (every second digit from the right doubled, sum ≡ 0 mod 10)."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@functools.lru_cache(maxsize=16384)  # a syndic's SIRET repeats across its copropriétés
def siret_checksum_ok(siret: str) -> bool:
    """Luhn checksum of a 14-digit SIRET; La Poste's (SIREN 356000000) use a digit sum ≡ 0 mod 5."""
    if len(siret) != 14 or not _digits(siret):
        return False
    if siret.startswith("356000000") and sum(int(c) for c in siret) % 5 == 0:
        return True  # La Poste's establishments; its head office also passes Luhn
    return luhn_ok(siret)


def siret(raw: str | None) -> str | None:
    """14-digit SIRET (spaces removed); the checksum is a separate, soft control."""
    if is_missing(raw):
        return None
    value = re.sub(r"[\s.]", "", raw)
    if len(value) != 14 or not _digits(value):
        raise Invalid("siret_invalide", f"SIRET {raw!r} is not 14 digits")
    return value


def label_a_g(raw: str | None) -> str | None:
    """Energy / climate label A–G."""
    if is_missing(raw):
        return None
    value = raw.strip().upper()
    if len(value) == 1 and "A" <= value <= "G":
        return value
    raise Invalid("etiquette_invalide", f"label {raw!r} is not a letter A–G")


def pg_array_text(raw: str | None) -> list[str] | None:
    """A PostgreSQL text-array literal `{a,b}` of simple tokens → list."""
    if is_missing(raw):
        return None
    value = raw.strip()
    if not (value.startswith("{") and value.endswith("}")):
        raise Invalid("tableau_invalide", f"{raw!r} is not an array literal {{a,b}}")
    inner = value[1:-1]
    return [part.strip().strip('"') for part in inner.split(",") if part.strip()] if inner else []


# -- geometry ------------------------------------------------------------------------------------
# Local projections and boxes of the territories: dbt_like_sql/reference/territoires.csv.
SRID_BY_DEPARTEMENT: dict[str, int] = {
    r.code_departement: r.srid_local for r in reference.table("territoires") if r.code_departement
}
SRID_METRO: int = reference.local_srid(None)


def local_srid(departement_code: str | None) -> int:
    return reference.local_srid(departement_code)


# (lon_min, lat_min, lon_max, lat_max) of every territory covered by the registry (metropolitan
# France with Corsica, the DROM, Saint-Martin, Saint-Barthélemy, Saint-Pierre-et-Miquelon).
FRANCE_BOXES: dict[str, tuple[float, float, float, float]] = reference.france_boxes()


def in_france(lon: float, lat: float) -> bool:
    return reference.in_france(lon, lat)


def point_ewkt(x: float | None, y: float | None, srid: int) -> str | None:
    if x is None or y is None:
        return None
    return f"SRID={srid};POINT({x!r} {y!r})"


# ASCII: without it re.I lets `ſRID=` through and \s takes U+3000 (the SQL twin agrees).
_EWKT = re.compile(r"^SRID=(\d+);\s*(MULTIPOLYGON|POLYGON|POINT|MULTIPOINT)\s*(?:Z\s*)?\(.*\)$", re.S | re.I | re.A)
_HEX = re.compile(r"^[0-9A-Fa-f]+$")


def ewkt_or_ewkb(raw: str | None) -> tuple[str, int] | None:
    """A geometry as EWKT (`SRID=2154;MULTIPOLYGON(...)`) or hex EWKB; returns (text, srid)."""
    if is_missing(raw):
        return None
    value = raw.strip()
    m = _EWKT.match(value)
    if m:
        return value, int(m[1])
    if _HEX.fullmatch(value) and len(value) >= 18 and len(value) % 2 == 0:
        little = value[:2] == "01"
        header = bytes.fromhex(value[2:18])
        wkb_type = int.from_bytes(header[:4], "little" if little else "big")
        if wkb_type & 0x20000000:  # SRID flag of EWKB
            return value, int.from_bytes(header[4:8], "little" if little else "big")
    raise Invalid("geometrie_invalide", f"geometry {value[:40]!r}... is neither EWKT with SRID nor hex EWKB")
