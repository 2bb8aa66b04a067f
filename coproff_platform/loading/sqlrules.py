"""SQL twins of the normalisers the fast path (`loading.fast`) runs set-based, per raw column.

Each entry turns the raw text column(s) of a rule into two SQL expressions:
- `value`: the normalised value, exactly what the Python normaliser returns for that raw text;
- `ok`: true when the raw text is missing or in a form `value` handles exactly.

`ok` is deliberately conservative: a raw value in any other form (an invalid value, a soft issue,
a rarer spelling such as `12,5 m²` or `AB-123-4567`) sends its ROW to the Python transformer
(`RowTransformer`), which gives the exact result, reason code and detail. So these expressions
need not cover every form of `normalise.py`, only never to disagree with it on what they accept;
the rules themselves (placeholders, code lists, bounds) are read from Python / the reference
layer here, never retyped.

Why partial: complete SQL twins of `normalise.py` (every form, reason codes) were built and proven
equal by property tests, but were slower per row than Python (`coordinate` 393 ms vs 116 ms here on
LOVAC 93, `idpar` 3.45 s), so the fast path would lose its point; they were not kept. One definition stays Python's: what these
accept they must return exactly as Python does (proven by `tests/test_load_fast.py` and
`benchmarks/loading_equivalence.py`), everything else is Python's answer. A property test of
these partial twins against `normalise.py`: `tests/test_sqlrules_twins.py`.

Assumption the guard of `loading.fast` guarantees: raw fields hold no whitespace other than the
plain space (lines with tabs, no-break spaces or other Unicode spaces go to Python), so
`btrim(x, ' ')` is Python's `strip()` and runs of `' '` are what `split()` splits on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from coproff_platform import normalise as n
from coproff_platform import reference
from coproff_platform.contracts import referencedata
from coproff_platform.contracts import sources as s
from coproff_platform.sqltext import literal


def _in(values) -> str:
    return "(" + ", ".join(literal(v) for v in sorted(values)) + ")"


MISSING_SQL = _in(n.MISSING)
COMPONENT_MISSING_SQL = _in(n._COMPONENT_MISSING)
PLM_SQL = _in(n.PLM_ARRONDISSEMENTS)


_RAW_COLUMN = re.compile(r"^r\.c(\d+)$")


def trim(x: str) -> str:
    """`x.strip()`; on a raw column of `loading.fast` (`r.c<i>`), its column `r.t<i>` computed once
    a row (inlined, the rules would recompute it a dozen times)."""
    m = _RAW_COLUMN.match(x)
    return f"r.t{m[1]}" if m else f"btrim({x}, ' ')"


def trimmed_columns(i: int) -> tuple[str, str]:
    """(t<i>, m<i>) of raw column c<i>: its trimmed text and whether it is missing (see `missing`)."""
    return (f"btrim(c{i}, ' ') as t{i}",
            f"(t{i} is null or (length(t{i}) <= {_MISSING_MAX} and lower(t{i}) in {MISSING_SQL})) as m{i}")


_MISSING_MAX = max(len(m) for m in n.MISSING)
DIGITS = "'0123456789'"
LETTERS = "'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'"


def missing(x: str) -> str:
    """`normalise.is_missing`: NULL (an unquoted empty field) or a placeholder (all of them are at
    most `_MISSING_MAX` characters once trimmed: the length test spares `lower()` on the others)."""
    m = _RAW_COLUMN.match(x)
    if m:
        return f"r.m{m[1]}"
    t = trim(x)
    return f"({t} is null or (length({t}) <= {_MISSING_MAX} and lower({t}) in {MISSING_SQL}))"


def collapse(x: str) -> str:
    """`' '.join(x.split())` on a field whose only whitespace is the plain space."""
    t = trim(x)
    return f"(case when strpos({t}, '  ') > 0 then regexp_replace({t}, ' {{2,}}', ' ', 'g') else {t} end)"


def digits(x: str) -> str:
    """Only ASCII digits (or empty). String functions, not regular expressions: 4-5x cheaper."""
    return f"(ltrim({x}, {DIGITS}) = '')"


Rendered = tuple[str, str]  # (value, ok)


def _text(x: str) -> Rendered:
    return f"(case when {missing(x)} then null else {collapse(x)} end)", "true"


def _address(x: str) -> Rendered:
    return f"(case when {missing(x)} then null else nullif(rtrim({collapse(x)}, ', '), '') end)", "true"


def _checked(x: str, form: str, value: str) -> Rendered:
    """A value accepted when `form` holds on its trimmed text `{t}`, normalised by `value`. The
    value is only computed on rows whose every `ok` holds (`loading.fast`): it needs no guard."""
    t = trim(x)
    return (f"(case when {missing(x)} then null else {value.format(t=t)} end)",
            f"({missing(x)} or {form.format(t=t)})")


def _num_immat(x: str) -> Rendered:
    return _checked(x, f"(length({{t}}) = 9 and ltrim(left({{t}}, 2), {LETTERS}) = '' and {digits('substr({t}, 3)')})",
                    "upper({t})")


def _insee(x: str) -> Rendered:
    form = (f"((length({{t}}) in (4, 5) and {digits('{t}')}) or (length({{t}}) = 5 and "
            f"upper(left({{t}}, 2)) in ('2A', '2B') and {digits('substr({t}, 3)')}))")
    return _checked(x, form, "(case when length({t}) = 4 then '0' || {t} else upper({t}) end)")


def _postcode(x: str) -> Rendered:
    return _checked(x, f"(length({{t}}) between 3 and 5 and {digits('{t}')})", "lpad({t}, 5, '0')")


def _departement(x: str) -> Rendered:
    form = (f"((length({{t}}) between 1 and 2 and {digits('{t}')}) or upper({{t}}) in ('2A', '2B') "
            f"or (length({{t}}) = 3 and left({{t}}, 2) = '97' and substr({{t}}, 3) in "
            f"('1', '2', '3', '4', '5', '6', '7', '8')))")
    return _checked(x, form, "(case when length({t}) = 1 then '0' || {t} else upper({t}) end)")


def _label_a_g(x: str) -> Rendered:
    return _checked(x, "({t} in ('A', 'B', 'C', 'D', 'E', 'F', 'G', 'a', 'b', 'c', 'd', 'e', 'f', 'g'))",
                    "upper({t})")


def _integer(x: str) -> Rendered:
    # At most 9 digits: always inside PostgreSQL's integer, so the bounds control cannot fire.
    # LIKE and ltrim, no regular expression nor substring: they allocate nothing per row.
    form = ("(ltrim({t}, '-0123456789') = '' and {t} <> '-' and {t} not like '_%-%' "
            "and (length({t}) <= 9 or (length({t}) = 10 and {t} like '-%')))")
    return _checked(x, form, "{t}::integer")


# Digits with at most one `.` or `,` between digits, an optional leading `-`, at most 15 digits
# before the separator (Python's `repr` of such a float stays in fixed notation, as PostgreSQL's
# text does).
_NUMBER_FORM = ("(ltrim({t}, '-0123456789.,') = '' and {t} <> '-' and {t} not like '_%-%' "
                "and {t} not like '.%' and {t} not like ',%' and {t} not like '-.%' and {t} not like '-,%' "
                "and {t} not like '%.' and {t} not like '%,' and {t} not like '%.%.%' and {t} not like '%,%,%' "
                "and {t} not like '%.%,%' and {t} not like '%,%.%' "
                "and (length({t}) <= 15 or (length({t}) <= 31 and strpos(translate({t}, ',', '.'), '.') between 2 and 16)))")


def _decimal(x: str) -> Rendered:
    return _checked(x, _NUMBER_FORM, "replace({t}, ',', '.')::numeric")


def _coordinate(x: str) -> Rendered:
    return _checked(x, _NUMBER_FORM, "replace({t}, ',', '.')::float8")


def _date(x: str) -> Rendered:
    """ISO `YYYY-MM-DD` (a time part ignored), checked to be a real calendar day without raising."""
    t = trim(x)
    y, m, d = (f"substr({t}, 1, 4)::integer", f"substr({t}, 6, 2)::integer", f"substr({t}, 9, 2)::integer")
    form = (f"(substr({t}, 5, 1) = '-' and substr({t}, 8, 1) = '-' and (length({t}) = 10 or (length({t}) > 10 "
            f"and substr({t}, 11, 1) in ('T', ' '))) and "
            f"{digits(f'substr({t}, 1, 4) || substr({t}, 6, 2) || substr({t}, 9, 2)')})")
    days = (f"(case {m} when 2 then (case when {y} % 4 = 0 and ({y} % 100 <> 0 or {y} % 400 = 0) "
            f"then 29 else 28 end) when 4 then 30 when 6 then 30 when 9 then 30 when 11 then 30 else 31 end)")
    real = f"({y} >= 1 and {m} between 1 and 12 and {d} between 1 and {days})"
    good = f"(case when {form} then {real} else false end)"
    return (f"(case when {missing(x)} then null else make_date({y}, {m}, {d}) end)",
            f"({missing(x)} or {good})")


def _idpar(x: str) -> Rendered:
    """A 14-character reference already in idpar form, outside Paris/Lyon/Marseille (their
    arrondissement rewrite stays in Python)."""
    t = trim(x)
    commune = (f"({digits(f'left({t}, 5)')} or (upper(left({t}, 2)) in ('2A', '2B') "
               f"and {digits(f'substr({t}, 3, 3)')}))")
    form = (f"(length({t}) = 14 and {commune} and {digits(f'substr({t}, 6, 3)')} "
            f"and ltrim(substr({t}, 9, 2), '0123456789' || {LETTERS}) = '' and {digits(f'substr({t}, 11)')} "
            f"and left({t}, 5) not in {PLM_SQL})")
    absent = f"({t} is null or lower({t}) in {COMPONENT_MISSING_SQL})"
    return f"(case when {absent} then null else upper({t}) end)", f"({absent} or {form})"


def _year(x: str) -> Rendered:
    value, ok = _integer(x)
    return f"nullif({value}, 0)", ok


ALNUM = "'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'"


def _plm(commune: str, pre: str, rest: str) -> str:
    """idpar of a commune / 3-digit préfixe / section+numéro: Paris, Lyon, Marseille's whole-commune
    code with an arrondissement préfixe becomes the arrondissement with préfixe 000 (normalise.py)."""
    cases = " ".join(f"when {commune} = {literal(code)} and {pre}::integer between {r.start} and {r.stop - 1} "
                     f"then left({commune}, 2) || {pre} || '000' || {rest}"
                     for code, r in n.PLM_ARRONDISSEMENTS.items())
    return f"(case {cases} else {commune} || {pre} || {rest} end)"


def _absent_component(t: str) -> str:
    return f"({t} is null or lower({t}) in {COMPONENT_MISSING_SQL})"


def _insee_form(t: str) -> str:
    return (f"((length({t}) in (4, 5) and {digits(t)}) or (length({t}) = 5 and upper(left({t}, 2)) in ('2A', '2B') "
            f"and {digits(f'substr({t}, 3)')}))")


def _insee_value(t: str) -> str:
    return f"(case when length({t}) = 4 then '0' || {t} else upper({t}) end)"


def _idpar_ref_or_parts(ref: str, code: str, pre: str, sec: str, num: str) -> Rendered:
    """`normalise.idpar_ref_or_parts` when the full reference is a plain 14-character idpar, or is
    absent and the components are absent or plain; anything else (13 characters, a malformed
    reference falling back to its components...) goes to Python."""
    tr, tc, tp, ts, tn = (trim(x) for x in (ref, code, pre, sec, num))
    ref_form = (f"(length({tr}) = 14 and {_insee_form(f'left({tr}, 5)')} and {digits(f'substr({tr}, 6, 3)')} "
                f"and ltrim(substr({tr}, 9, 2), {ALNUM}) = '' and {digits(f'substr({tr}, 11)')})")
    ref_value = _plm(f"upper(left({tr}, 5))", f"substr({tr}, 6, 3)", f"upper(substr({tr}, 9))")
    parts_absent = " or ".join(_absent_component(t) for t in (tc, tp, ts, tn))
    parts_form = (f"({_insee_form(tc)} and length({tp}) between 1 and 3 and {digits(tp)} and length({ts}) "
                  f"between 1 and 2 and ltrim({ts}, {ALNUM}) = '' and length({tn}) between 1 and 4 and {digits(tn)})")
    parts_value = _plm(_insee_value(tc), f"lpad({tp}, 3, '0')", f"lpad(upper({ts}), 2, '0') || lpad({tn}, 4, '0')")
    value = (f"(case when not {_absent_component(tr)} then {ref_value} when {parts_absent} then null "
             f"else {parts_value} end)")
    ok = f"(case when not {_absent_component(tr)} then {ref_form} else ({parts_absent}) or {parts_form} end)"
    return value, ok


def _boolean(x: str) -> Rendered:
    t = trim(x)
    return (f"(case when {missing(x)} then null else lower({t}) in {_in(n._TRUE)} end)",
            f"({missing(x)} or lower({t}) in {_in(n._TRUE | n._FALSE)})")


def _siret(x: str) -> Rendered:
    return _checked(x, f"(length({{t}}) = 14 and {digits('{t}')})", "{t}")


def _period(x: str) -> Rendered:
    # A code as written (letters, digits, single inner underscores): `normalise_name(raw).upper()`
    # is then `upper(raw)`; labels (`Avant 1949`) go to Python.
    codes = set(n.PERIOD_BOUNDS) | set(n._UNKNOWN_PERIODS)
    form = f"(ltrim({{t}}, {ALNUM} || '_') = '' and upper({{t}}) in {_in(codes)})"
    return _checked(x, form, f"(case when upper({{t}}) in {_in(n._UNKNOWN_PERIODS)} then null else upper({{t}}) end)")


def _latin(t: str) -> str:
    """Characters whose lower case PostgreSQL and Python agree on (ASCII, Latin-1)."""
    return f"(octet_length({t}) = length({t}) or {t} ~ '^[ -ÿ]*$')"


def _type_syndic(x: str) -> Rendered:
    return (f"(case when {missing(x)} then null else lower({collapse(x)}) end)",
            f"({missing(x)} or {_latin(trim(x))})")


_ANONYMISED = "identité non partagée"


def _raison_sociale(x: str) -> Rendered:
    v = collapse(x)
    return (f"(case when {missing(x)} or lower(left({v}, {len(_ANONYMISED)})) = {literal(_ANONYMISED)} then null "
            f"else {v} end)", f"({missing(x)} or {_latin(f'left({trim(x)}, {len(_ANONYMISED) + 2})')})")


def _lots(x: str) -> Rendered:
    # A count: unsigned, at most 9 digits (a negative one is a hard reject: Python says why).
    return _checked(x, f"(length({{t}}) <= 9 and {digits('{t}')})", "{t}::integer")


# Python normaliser → its SQL twin (one raw input each).
SQL: dict[Callable, Callable[[str], Rendered]] = {
    n.text: _text,
    n.address: _address,
    n.num_immat: _num_immat,
    n.insee: _insee,
    n.postcode: _postcode,
    n.departement: _departement,
    n.label_a_g: _label_a_g,
    n.integer: _integer,
    n.decimal: _decimal,
    n.coordinate: _coordinate,
    n.date: _date,
    n.idpar: _idpar,
    s._year: _year,
    s._ccodep: _departement,
    n.boolean: _boolean,
    n.siret: _siret,
    n.period: _period,
    s._type_syndic: _type_syndic,
    s._raison_sociale: _raison_sociale,
    s._lots: _lots,
    s._num_immat_principal: _num_immat,
}
def _surface_carrez(*raw: str) -> Rendered:
    # contracts.sources._surface_carrez: the sum of the filled lots' surfaces, NULL when none is.
    parts = [_decimal(x) for x in raw]
    filled = " or ".join(f"{v} is not null" for v, _ in parts)
    total = " + ".join(f"coalesce({v}, 0)" for v, _ in parts)
    return f"(case when {filled} then {total} end)", "(" + " and ".join(ok for _, ok in parts) + ")"


# Normalisers of several raw fields.
SQL_MULTI: dict[Callable, Callable[..., Rendered]] = {
    n.idpar_ref_or_parts: _idpar_ref_or_parts,
    s._surface_carrez: _surface_carrez,
}


def render(rule: s.Rule, raw: list[str | None]) -> Rendered | None:
    """(value, ok) of `rule` over the raw column expressions (None: column absent), or None when
    the rule has no SQL twin (its source then keeps the Python path)."""
    raw = [x if x is not None else "null::text" for x in raw]  # an absent optional column reads as empty
    if rule.fn in SQL_MULTI:
        return SQL_MULTI[rule.fn](*raw)
    twin = SQL.get(rule.fn)
    if twin is None or len(raw) != 1:
        return None
    return twin(raw[0])


def local_srid(dep: str) -> str:
    """`reference.local_srid(dep)` (territoires.csv): the DROM/COM projection, else the metropole's."""
    cases = " ".join(f"when {literal(r.code_departement)} then {int(r.srid_local)}"
                     for r in reference.table("territoires") if r.code_departement)
    return f"(case upper(left(btrim(coalesce({dep}, ''), ' '), 3)) {cases} else {int(n.SRID_METRO)} end)"


def departement_of_insee(code: str) -> str:
    """`normalise.departement_of_insee`."""
    return f"(case when left({code}, 2) = '97' then left({code}, 3) else left({code}, 2) end)"


def float_repr(x: str) -> str:
    """Python's `repr(float)` of a float8: both print the shortest exact digits (PostgreSQL ≥ 12,
    extra_float_digits ≥ 1), Python adds `.0` to whole numbers. Same switch to exponents below
    1e-4; above, the values `_coordinate` accepts (≤ 15 integer digits) stay in fixed notation."""
    return f"(case when strpos({x}::text, '.') = 0 and strpos({x}::text, 'e') = 0 then {x}::text || '.0' else {x}::text end)"


def point_ewkt(x: str, y: str, srid: str) -> str:
    """`normalise.point_ewkt`: the same text (the quarantine keeps it as the raw geometry)."""
    return f"('SRID=' || {srid} || ';POINT(' || {float_repr(x)} || ' ' || {float_repr(y)} || ')')"


@dataclass(frozen=True)
class Point:
    """A point column built from two coordinates in a projection (SQL over the rule outputs)."""

    present: str  # the point exists (else NULL)
    x: str
    y: str
    srid: str

    def ewkt(self) -> str:
        return f"(case when {self.present} then {point_ewkt(self.x, self.y, self.srid)} end)"

    def wgs84(self) -> str:
        """What the Python path stores: the EWKT parsed, then `st_transform(geom, 4326)` (same doubles)."""
        return (f"(case when {self.present} then st_transform(st_setsrid(st_makepoint({self.x}, {self.y}), "
                f"{self.srid}), 4326) end)")


def _dpe_point(c: dict[str, str]) -> Point:
    # contracts.sources._local_point: no point when a coordinate is missing or both are 0 (not
    # geocoded); projection of the BAN commune's département, else of `code_departement_ban`.
    x, y, code = c["_x"], c["_y"], c["code_insee_ban"]
    dep = f"(case when {code} is not null then {departement_of_insee(code)} else {c['_dep']} end)"
    return Point(f"({x} is not null and {y} is not null and not ({x} = 0 and {y} = 0))", x, y, local_srid(dep))


def _lovac_point(c: dict[str, str]) -> Point:
    # contracts.sources._lovac_point: projection of the parcel's (else the local's) département.
    x, y = c["_x"], c["_y"]
    key = f"coalesce({c['ff_idpar']}, {c['ff_idlocal']}, '')"
    dep = f"(case when length({key}) >= 5 then {departement_of_insee(key)} end)"
    return Point(f"({x} is not null and {y} is not null)", x, y, local_srid(dep))


# Point columns of `contracts.sources` (the `Derived` geom of these sources), per source.
POINTS: dict[str, dict[str, Callable[[dict[str, str]], Point]]] = {
    "dpe": {"geom": _dpe_point},
    "lovac": {"geom": _lovac_point},
}


def in_territory(g: str) -> str:
    """`geometry_checks.sql`'s domain test on a WGS84 point: inside the box of a territory of
    territoires.csv (the rows `load._temp_table` puts in `_territory_boxes`)."""
    boxes = [(float(r["lon_min"]), float(r["lat_min"]), float(r["lon_max"]), float(r["lat_max"]))
             for r in referencedata.rows("territoires").values()]
    return "(" + " or ".join(f"(st_x({g}) between {x0!r} and {x1!r} and st_y({g}) between {y0!r} and {y1!r})"
                             for x0, y0, x1, y1 in boxes) + ")"


def territory_srids() -> list[int]:
    return sorted({int(r.srid_local) for r in reference.table("territoires")})


# ------------------------------------------------------------------------------------------------
# RNIC: derived columns and registry controls (contracts.sources, RNIC_SPEC), over the rule outputs
# ------------------------------------------------------------------------------------------------
def _l_idpar(c: dict[str, str]) -> str:
    # contracts.sources._l_idpar: the filled references, first occurrence kept, in order.
    i1, i2, i3 = c["idpar_1"], c["idpar_2"], c["idpar_3"]
    return (f"array_remove(array[{i1}, case when {i2} is distinct from {i1} then {i2} end, "
            f"case when {i3} is distinct from {i1} and {i3} is distinct from {i2} then {i3} end]::text[], null)")


def _point_4326(c: dict[str, str]) -> str:
    lon, lat = c["_lon"], c["_lat"]
    return f"(case when {lon} is not null and {lat} is not null then st_setsrid(st_makepoint({lon}, {lat}), 4326) end)"


DERIVED_SQL: dict[str, dict[str, Callable[[dict[str, str]], str]]] = {
    "rnic": {"l_idpar": _l_idpar, "geom": _point_4326},
    "dvf": {"geom": _point_4326},
}


def _digit_at(sir: str, pos: int) -> str:
    return f"substr({sir}, {pos}, 1)::integer"


def siret_checksum_ok(sir: str) -> str:
    """`normalise.siret_checksum_ok` on a 14-digit SIRET: Luhn (every second digit from the right
    doubled, 9 taken off a doubled digit above 9), or La Poste's digit sum ≡ 0 mod 5."""
    terms = []
    for pos in range(1, 15):
        d = _digit_at(sir, pos)
        terms.append(f"(2 * {d} - case when {d} >= 5 then 9 else 0 end)" if pos % 2 == 1 else d)
    digit_sum = " + ".join(_digit_at(sir, pos) for pos in range(1, 15))
    return (f"((left({sir}, 9) = '356000000' and ({digit_sum}) % 5 = 0) or ({' + '.join(terms)}) % 10 = 0)")


def _cp_hors_departement(c: dict[str, str]) -> str:
    # contracts.sources._cp_hors_departement with reference.departements_of_postcode.
    cp = c["code_postal"]
    dep = f"coalesce({c['code_departement']}, {departement_of_insee(c['code_commune'])})"
    overseas = [(r.code_departement, r.prefixes_code_postal.split())
                for r in reference.table("territoires") if r.prefixes_code_postal]
    match = {code: " or ".join(f"{cp} like {literal(p + '%')}" for p in prefixes) for code, prefixes in overseas}
    any_overseas = " or ".join(f"({m})" for m in match.values())
    in_overseas = " or ".join(f"(({m}) and {dep} = {literal(code)})" for code, m in match.items())
    return (f"coalesce({cp} is not null and {dep} is not null and (case when {any_overseas} then not ({in_overseas}) "
            f"when {cp} like '20%' then {dep} not in ('2A', '2B') else {dep} <> left({cp}, 2) end), false)")


def _point_hors_france(c: dict[str, str]) -> str:
    lon, lat = c["_lon"], c["_lat"]
    boxes = " or ".join(f"({lon} between {x0!r} and {x1!r} and {lat} between {y0!r} and {y1!r})"
                        for x0, y0, x1, y1 in n.FRANCE_BOXES.values())
    return f"({lon} is not null and {lat} is not null and not ({boxes}))"


def _rnic_controls() -> dict[str, Callable[[dict[str, str]], str]]:
    lots = ("lots_total", "lots_hab_bur_com", "lots_hab", "lots_stationnement")
    return {
        "lots_incoherents": lambda c: (f"(coalesce({c['lots_hab']} > {c['lots_hab_bur_com']}, false) "
                                       f"or coalesce({c['lots_hab_bur_com']} > {c['lots_total']}, false))"),
        "lots_improbables": lambda c: "(" + " or ".join(
            f"coalesce({c[k]} >= {int(s.LOTS_IMPROBABLES_MIN)}, false)" for k in lots) + ")",
        "immat_avant_2016_11": lambda c: f"coalesce({c['date_immat']} < date {literal(s.REGISTRY_OPENING.isoformat())}, false)",
        "maj_avant_immat": lambda c: f"coalesce({c['date_maj']} < {c['date_immat']}, false)",
        "siret_cle_invalide": lambda c: (f"({c['syndic_siret']} is not null and not "
                                         f"{siret_checksum_ok(c['syndic_siret'])})"),
        "cp_hors_departement": _cp_hors_departement,
        "point_hors_france": _point_hors_france,
    }


# Soft controls per source: code → SQL predicate over the rule outputs (flagged when true).
CONTROLS: dict[str, dict[str, Callable[[dict[str, str]], str]]] = {"rnic": _rnic_controls()}
