"""The registry's application controls and its answer to one declaration.

Every control has one definition:
- structure controls are the JSON Schema of the contract (`schema.py`, `schemas/`);
- business controls are the functions below, one per code, registered with `@controle`;
- the existence of a registration number (`M_IMMAT_INCONNUE`) is asked of a `Registre` (the set
  of known numbers: the registry export and the numbers already attributed).
Codes, services, levels and French messages are the reference table
`dbt_like_sql/reference/controles_declaration.csv`. The landing source (batch) and the editors'
test service (one document per call) both call `controler()`, so they cannot drift apart.

Why Python, not SQL, for the business controls: the JSON must be parsed and validated against the
schema at the reading edge anyway (a compiled validator), the controls reuse `normalise.idpar` and
`normalise.siret_checksum_ok`, and the service must answer on one document without staging it.
Throughput is measured in BENCHMARKS.md (declarations controlled per second).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from coproff_platform import normalise as n
from coproff_platform import reference
from coproff_platform.registre.schema import Failure, structure_failures

Check = Callable[["Contexte"], Iterator[Failure]]
BUSINESS: dict[str, Check] = {}


class Registre(Protocol):
    def connu(self, num_immat: str) -> bool: ...


@dataclass(frozen=True)
class Controle:
    code: str
    services: tuple[str, ...]
    niveau: str  # bloquant | alerte
    categorie: str  # structure | metier
    message: str

    @property
    def bloquant(self) -> bool:
        return self.niveau == "bloquant"


@functools.cache
def catalogue() -> dict[str, Controle]:
    return {
        r.code: Controle(r.code, tuple(r.services.split()), r.niveau, r.categorie, r.message)
        for r in reference.table("controles_declaration")
    }


class Contexte:
    """One structurally valid declaration being controlled: its blocks, parcels and transmission
    date read once (every control reads them)."""

    __slots__ = ("doc", "service", "recu_le", "registre", "a", "b", "c", "d", "idpar", "transmission")

    def __init__(self, doc: dict[str, Any], service: str, recu_le: dt.datetime | None,
                 registre: Registre | None) -> None:
        self.doc, self.service, self.recu_le, self.registre = doc, service, recu_le, registre
        self.a: dict[str, Any] = doc.get("identification") or {}
        self.b: dict[str, Any] = doc.get("procedures") or {}
        self.c: dict[str, Any] | None = doc.get("donnees_techniques")
        self.d: dict[str, Any] | None = doc.get("donnees_financieres")
        self.idpar: list[str | None] = parcelles(doc)
        self.transmission: dt.date | None = _transmission_day(doc.get("date_transmission"))


@functools.lru_cache(maxsize=65536)
def _transmission_day(value: Any) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except (AttributeError, ValueError):
        return None


def controle(code: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        BUSINESS[code] = fn
        return fn
    return register


def day(value: Any) -> dt.date | None:
    """An ISO date of the document (already pattern-checked by the schema); None if impossible."""
    return _day(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=65536)  # several controls read each date; dates repeat across a batch
def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


# -- télédéclarant, transmission, rattachement -------------------------------------------------

@controle("T_DATE_TRANSMISSION")
def _transmission(c: Contexte) -> Iterator[Failure]:
    if c.transmission is None:
        yield Failure("T_DATE_TRANSMISSION", "date_transmission", "date inexistante")
    elif c.recu_le is not None and c.transmission > c.recu_le.date():
        yield Failure("T_DATE_TRANSMISSION", "date_transmission", f"{c.transmission} > réception {c.recu_le.date()}")


def _justificatif(c: Contexte) -> str | None:
    r = c.doc.get("rattachement") or {}
    return r.get("justificatif")


@controle("R_JUSTIFICATIF_TAILLE")
def _taille(c: Contexte) -> Iterator[Failure]:
    j = _justificatif(c)
    limit = reference.parameter("declaration_justificatif_caracteres_max")
    if j is not None and len(j) > limit:
        yield Failure("R_JUSTIFICATIF_TAILLE", "rattachement/justificatif", f"{len(j)} > {limit} caractères")


def decoded(justificatif: str) -> bytes | None:
    try:
        return base64.b64decode(justificatif, validate=True)
    except (binascii.Error, ValueError):
        return None


@controle("R_JUSTIFICATIF_BASE64")
def _base64(c: Contexte) -> Iterator[Failure]:
    j = _justificatif(c)
    if j is not None and (not j or decoded(j) is None):
        yield Failure("R_JUSTIFICATIF_BASE64", "rattachement/justificatif")


@controle("R_JUSTIFICATIF_PDF")
def _pdf(c: Contexte) -> Iterator[Failure]:
    r = c.doc.get("rattachement")
    if not r:
        return
    content = decoded(r["justificatif"]) if r.get("justificatif") else None
    if not r["nom_fichier"].lower().endswith(".pdf") or (content is not None and not content.startswith(b"%PDF")):
        yield Failure("R_JUSTIFICATIF_PDF", "rattachement/nom_fichier", r["nom_fichier"][:80])


@controle("R_ADMINISTRATION_PROVISOIRE")
def _admin_provisoire(c: Contexte) -> Iterator[Failure]:
    r = c.doc.get("rattachement")
    if r and r["administration_provisoire"] and r["type_justificatif"] != "ordonnance_designation":
        yield Failure("R_ADMINISTRATION_PROVISOIRE", "rattachement/type_justificatif", r["type_justificatif"])


# -- A. identification --------------------------------------------------------------------------

def _all_dates(c: "Contexte") -> Iterator[tuple[str, Any]]:
    """Every calendar date of blocks A, B and D (the schema already checked their pattern)."""
    yield "identification/date_mise_en_copropriete", c.a.get("date_mise_en_copropriete")
    for i, a in enumerate(c.b.get("arretes") or []):
        yield f"procedures/arretes/{i}/date_arrete", a.get("date_arrete")
        yield f"procedures/arretes/{i}/date_mainlevee", a.get("date_mainlevee")
    m = c.b.get("mandat_ad_hoc") or {}
    yield "procedures/mandat_ad_hoc/date_ordonnance_nomination", m.get("date_ordonnance_nomination")
    yield "procedures/mandat_ad_hoc/date_fin_mission", m.get("date_fin_mission")
    yield "procedures/date_ordonnance_carence", c.b.get("date_ordonnance_carence")
    for k in ("date_ag_approbation_comptes", "date_cloture_comptes"):
        yield f"donnees_financieres/{k}", (c.d or {}).get(k)


@controle("A_DATE_INEXISTANTE")
def _date_inexistante(c: Contexte) -> Iterator[Failure]:
    for path, value in _all_dates(c):
        if value is not None and day(value) is None:
            yield Failure("A_DATE_INEXISTANTE", path, value)


@controle("A_DATE_COPRO_FUTURE")
def _copro_future(c: Contexte) -> Iterator[Failure]:
    d = day(c.a.get("date_mise_en_copropriete"))
    if d and c.transmission and d > c.transmission:
        yield Failure("A_DATE_COPRO_FUTURE", "identification/date_mise_en_copropriete", str(d))


@controle("A_DATE_COPRO_ANCIENNE")
def _copro_ancienne(c: Contexte) -> Iterator[Failure]:
    d = day(c.a.get("date_mise_en_copropriete"))
    if d and d.year < reference.parameter("declaration_annee_min"):
        yield Failure("A_DATE_COPRO_ANCIENNE", "identification/date_mise_en_copropriete", str(d))


@controle("A_LOTS_HABITATION")
def _lots_hab(c: Contexte) -> Iterator[Failure]:
    if c.a["nombre_lots_habitation"] > c.a["nombre_lots_total"]:
        yield Failure("A_LOTS_HABITATION", "identification/nombre_lots_habitation",
                      f"{c.a['nombre_lots_habitation']} > {c.a['nombre_lots_total']}")


@controle("A_LOTS_STATIONNEMENT")
def _lots_stat(c: Contexte) -> Iterator[Failure]:
    if c.a["nombre_lots_stationnement"] > c.a["nombre_lots_total"]:
        yield Failure("A_LOTS_STATIONNEMENT", "identification/nombre_lots_stationnement",
                      f"{c.a['nombre_lots_stationnement']} > {c.a['nombre_lots_total']}")


@controle("A_LOTS_HABITATION_BUREAUX")
def _lots_hbc(c: Contexte) -> Iterator[Failure]:
    hbc = c.a.get("nombre_lots_habitation_bureaux_commerces")
    if hbc is not None and (hbc > c.a["nombre_lots_total"] or hbc < c.a["nombre_lots_habitation"]):
        yield Failure("A_LOTS_HABITATION_BUREAUX", "identification/nombre_lots_habitation_bureaux_commerces", str(hbc))


# A street number range: `12-14`, `12 à 14`, `12/14`, `12 au 14`, `12,14`, `12 et 14`.
_PLAGE = re.compile(r"^\s*\d+\s*[a-zA-Z]?\s*(?:-|/|,|&|à|a|au|et)\s*\d+", re.IGNORECASE)


@controle("A_ADRESSE_PLAGE")
def _plage(c: Contexte) -> Iterator[Failure]:
    numero = c.a["adresse_principale"].get("numero_voie")
    if numero and _PLAGE.match(numero):
        yield Failure("A_ADRESSE_PLAGE", "identification/adresse_principale/numero_voie", numero)


@controle("A_ADRESSE_HORS_TERRITOIRE")
def _hors_territoire(c: Contexte) -> Iterator[Failure]:
    adr = c.a["adresse_principale"]
    lon, lat = adr.get("longitude"), adr.get("latitude")
    if lon is None or lat is None:
        return
    # The territories the registry covers (`couvert_registre` of the reference layer).
    if not reference.in_france(lon, lat):
        yield Failure("A_ADRESSE_HORS_TERRITOIRE", "identification/adresse_principale", f"{lon}, {lat}")


def parcelles(doc: dict[str, Any]) -> list[str | None]:
    """The declared parcels in FF `idpar` form (None for a malformed reference)."""
    out = []
    for ref in (doc.get("identification") or {}).get("parcelles_cadastrales") or []:
        try:
            out.append(n.idpar(ref))
        except n.Invalid:
            out.append(None)
    return out


@controle("A_PARCELLE_FORMAT")
def _parcelle_format(c: Contexte) -> Iterator[Failure]:
    for i, (raw, idpar) in enumerate(zip(c.a["parcelles_cadastrales"], c.idpar)):
        if idpar is None:
            yield Failure("A_PARCELLE_FORMAT", f"identification/parcelles_cadastrales/{i}", raw[:40])


@controle("A_PARCELLE_DOUBLON")
def _parcelle_doublon(c: Contexte) -> Iterator[Failure]:
    ok = [p for p in c.idpar if p]
    if len(set(ok)) < len(ok):
        yield Failure("A_PARCELLE_DOUBLON", "identification/parcelles_cadastrales")


@controle("A_PARCELLE_DEPARTEMENT")
def _parcelle_departement(c: Contexte) -> Iterator[Failure]:
    code_postal = c.a["adresse_principale"]["code_postal"]
    insee = c.a["adresse_principale"].get("code_insee")
    dep = n.departement_of_insee(insee) if insee else None
    for i, p in enumerate(c.idpar):
        if p is None:
            continue
        pdep = n.departement_of_insee(p[:5])
        # Without the INSEE code, the postcode's département (Corsica 20xxx: 2A/2B).
        same = pdep == dep if dep else code_postal.startswith(pdep) or (pdep in ("2A", "2B") and code_postal.startswith("20"))
        if not same:
            yield Failure("A_PARCELLE_DEPARTEMENT", f"identification/parcelles_cadastrales/{i}", p)


@controle("A_SIRET_CLE")
def _siret(c: Contexte) -> Iterator[Failure]:
    siret = c.a.get("siret")
    if siret and not n.siret_checksum_ok(siret):
        yield Failure("A_SIRET_CLE", "identification/siret", siret)


@controle("A_PRINCIPAL_MANQUANT")
def _principal(c: Contexte) -> Iterator[Failure]:
    if not c.a["syndicat_principal"] and not c.a.get("numero_syndicat_principal"):
        yield Failure("A_PRINCIPAL_MANQUANT", "identification/numero_syndicat_principal")


def canonical_immat(value: str | None) -> str | None:
    return n.num_immat(value) if value else None


@controle("A_PRINCIPAL_SOI_MEME")
def _principal_soi(c: Contexte) -> Iterator[Failure]:
    p = c.a.get("numero_syndicat_principal")
    if c.service == "WS2" and p and canonical_immat(p) == canonical_immat(c.doc["numero_immatriculation"]):
        yield Failure("A_PRINCIPAL_SOI_MEME", "identification/numero_syndicat_principal", p)


# -- B. procédures ------------------------------------------------------------------------------

@controle("B_ARRETE_FUTUR")
def _arrete_futur(c: Contexte) -> Iterator[Failure]:
    for i, a in enumerate(c.b.get("arretes") or []):
        d = day(a["date_arrete"])
        if d and c.transmission and d > c.transmission:
            yield Failure("B_ARRETE_FUTUR", f"procedures/arretes/{i}/date_arrete", str(d))


@controle("B_MAINLEVEE_AVANT_ARRETE")
def _mainlevee(c: Contexte) -> Iterator[Failure]:
    for i, a in enumerate(c.b.get("arretes") or []):
        d, m = day(a["date_arrete"]), day(a.get("date_mainlevee"))
        if d and m and m < d:
            yield Failure("B_MAINLEVEE_AVANT_ARRETE", f"procedures/arretes/{i}/date_mainlevee", f"{m} < {d}")


@controle("B_FIN_MISSION_AVANT_NOMINATION")
def _fin_mission(c: Contexte) -> Iterator[Failure]:
    m = c.b.get("mandat_ad_hoc")
    if m:
        d, f = day(m["date_ordonnance_nomination"]), day(m.get("date_fin_mission"))
        if d and f and f < d:
            yield Failure("B_FIN_MISSION_AVANT_NOMINATION", "procedures/mandat_ad_hoc/date_fin_mission", f"{f} < {d}")


@controle("B_PROCEDURE_FUTURE")
def _procedure_future(c: Contexte) -> Iterator[Failure]:
    m = c.b.get("mandat_ad_hoc") or {}
    for path, value in (("procedures/mandat_ad_hoc/date_ordonnance_nomination", m.get("date_ordonnance_nomination")),
                        ("procedures/date_ordonnance_carence", c.b.get("date_ordonnance_carence"))):
        d = day(value)
        if d and c.transmission and d > c.transmission:
            yield Failure("B_PROCEDURE_FUTURE", path, str(d))


# -- C. données techniques ----------------------------------------------------------------------

@functools.cache
def _periodes() -> dict[str, NamedTuple]:
    return {r.code: r for r in reference.table("periodes_construction")}


@controle("C_PERIODE_INCONNUE")
def _periode(c: Contexte) -> Iterator[Failure]:
    if c.c and c.c["periode_construction"] not in _periodes():
        yield Failure("C_PERIODE_INCONNUE", "donnees_techniques/periode_construction", c.c["periode_construction"][:40])


@functools.cache
def _etiquettes() -> frozenset[str]:
    return frozenset(r.code for r in reference.table("etiquettes_dpe"))


@controle("C_ETIQUETTE_INCONNUE")
def _etiquette(c: Contexte) -> Iterator[Failure]:
    labels = _etiquettes()
    for i, b in enumerate((c.c or {}).get("batiments_par_etiquette") or []):
        if b["etiquette"] not in labels:
            yield Failure("C_ETIQUETTE_INCONNUE", f"donnees_techniques/batiments_par_etiquette/{i}", b["etiquette"][:10])


@controle("C_ETIQUETTE_DOUBLON")
def _etiquette_doublon(c: Contexte) -> Iterator[Failure]:
    labels = [b["etiquette"] for b in (c.c or {}).get("batiments_par_etiquette") or []]
    if len(set(labels)) < len(labels):
        yield Failure("C_ETIQUETTE_DOUBLON", "donnees_techniques/batiments_par_etiquette")


@controle("C_BATIMENTS_AUCUN")
def _batiments(c: Contexte) -> Iterator[Failure]:
    if c.c and sum(b["nombre_batiments"] for b in c.c["batiments_par_etiquette"]) == 0:
        yield Failure("C_BATIMENTS_AUCUN", "donnees_techniques/batiments_par_etiquette")


@controle("C_ENERGIE_CHAUFFAGE")
def _energie(c: Contexte) -> Iterator[Failure]:
    if not c.c:
        return
    ch = c.c["chauffage"]
    collectif_non_urbain = ch["type"] in ("collectif", "mixte") and ch.get("urbain") is False
    if (collectif_non_urbain and not ch.get("energie")) or (ch["type"] == "individuel" and ch.get("energie")):
        yield Failure("C_ENERGIE_CHAUFFAGE", "donnees_techniques/chauffage", str(ch)[:80])


@controle("C_PERIODE_APRES_COPRO")
def _periode_apres(c: Contexte) -> Iterator[Failure]:
    if not c.c:
        return
    periode = _periodes().get(c.c["periode_construction"])
    d = day(c.a.get("date_mise_en_copropriete"))
    if periode and periode.annee_min is not None and d and periode.annee_min > d.year:
        yield Failure("C_PERIODE_APRES_COPRO", "donnees_techniques/periode_construction",
                      f"{c.c['periode_construction']} après {d}")


# -- D. données financières ---------------------------------------------------------------------

@controle("D_CLOTURE_APRES_AG")
def _cloture(c: Contexte) -> Iterator[Failure]:
    if c.d:
        ag, cl = day(c.d["date_ag_approbation_comptes"]), day(c.d["date_cloture_comptes"])
        if ag and cl and ag < cl:
            yield Failure("D_CLOTURE_APRES_AG", "donnees_financieres/date_ag_approbation_comptes", f"{ag} < {cl}")


@controle("D_AG_FUTURE")
def _ag_future(c: Contexte) -> Iterator[Failure]:
    if c.d:
        ag = day(c.d["date_ag_approbation_comptes"])
        if ag and c.transmission and ag > c.transmission:
            yield Failure("D_AG_FUTURE", "donnees_financieres/date_ag_approbation_comptes", str(ag))


@controle("D_IMPAYES_SANS_CHARGES")
def _impayes_sans_charges(c: Contexte) -> Iterator[Failure]:
    if c.d and c.d["montant_impayes"] > 0 and c.d["charges_courantes"] == 0:
        yield Failure("D_IMPAYES_SANS_CHARGES", "donnees_financieres/montant_impayes")


@controle("D_IMPAYES_DEBITEURS")
def _impayes_debiteurs(c: Contexte) -> Iterator[Failure]:
    if c.d and (c.d["montant_impayes"] > 0) != (c.d["nombre_coproprietaires_impayes"] > 0):
        yield Failure("D_IMPAYES_DEBITEURS", "donnees_financieres/nombre_coproprietaires_impayes",
                      f"{c.d['montant_impayes']} / {c.d['nombre_coproprietaires_impayes']}")


@controle("D_DEBITEURS_LOTS")
def _debiteurs_lots(c: Contexte) -> Iterator[Failure]:
    if c.d and c.d["nombre_coproprietaires_impayes"] > c.a["nombre_lots_total"]:
        yield Failure("D_DEBITEURS_LOTS", "donnees_financieres/nombre_coproprietaires_impayes",
                      f"{c.d['nombre_coproprietaires_impayes']} > {c.a['nombre_lots_total']}")


@controle("D_IMPAYES_EXCESSIFS")
def _impayes_excessifs(c: Contexte) -> Iterator[Failure]:
    if c.d:
        charges = c.d["charges_courantes"] + c.d["charges_exceptionnelles"]
        factor = reference.parameter("declaration_impayes_charges_max")
        if charges > 0 and c.d["montant_impayes"] > factor * charges:
            yield Failure("D_IMPAYES_EXCESSIFS", "donnees_financieres/montant_impayes")


@controle("D_CHARGES_PAR_LOT")
def _charges_lot(c: Contexte) -> Iterator[Failure]:
    if c.d and c.d["charges_courantes"] > 0:
        per_lot = c.d["charges_courantes"] / c.a["nombre_lots_total"]
        lo, hi = reference.parameter("declaration_charges_lot_min"), reference.parameter("declaration_charges_lot_max")
        if not lo <= per_lot <= hi:
            yield Failure("D_CHARGES_PAR_LOT", "donnees_financieres/charges_courantes", f"{per_lot:.0f} € par lot")


# -- WS2: mise à jour ---------------------------------------------------------------------------

@controle("M_IMMAT_INCONNUE")
def _immat_inconnue(c: Contexte) -> Iterator[Failure]:
    if c.service == "WS2" and c.registre is not None:
        f = existence_failure(canonical_immat(c.doc["numero_immatriculation"]), c.registre)
        if f is not None:
            yield f


def existence_failure(num: str | None, registre: Registre) -> Failure | None:
    """M_IMMAT_INCONNUE for a WS2's (canonical) number; also asked by the batch loader after its
    workers controlled the declaration without the registry (it needs the earlier lines' WS1)."""
    return None if registre.connu(num) else Failure("M_IMMAT_INCONNUE", "numero_immatriculation", num)


@functools.lru_cache(maxsize=65536)
def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last))


@controle("M_ANNUELLE_HORS_DELAI")
def _hors_delai(c: Contexte) -> Iterator[Failure]:
    if c.service == "WS2" and c.doc.get("type_mise_a_jour") == "annuelle" and c.d and c.transmission:
        ag = day(c.d["date_ag_approbation_comptes"])
        months = reference.parameter("maj_annuelle_delai_mois")
        if ag and c.transmission > add_months(ag, months):
            yield Failure("M_ANNUELLE_HORS_DELAI", "date_transmission", f"AG du {ag}, transmise le {c.transmission}")


@controle("M_ANNUELLE_EXERCICE_ANCIEN")
def _exercice_ancien(c: Contexte) -> Iterator[Failure]:
    if c.service == "WS2" and c.doc.get("type_mise_a_jour") == "annuelle" and c.d and c.transmission:
        cl = day(c.d["date_cloture_comptes"])
        if cl and c.transmission > add_months(cl, 24):
            yield Failure("M_ANNUELLE_EXERCICE_ANCIEN", "donnees_financieres/date_cloture_comptes", str(cl))


# -- the registry's answer ----------------------------------------------------------------------

@dataclass
class Reponse:
    """The registry's answer to one declaration, as the web service returns it."""

    service: str | None
    controles: list[Failure] = field(default_factory=list)
    structure_valide: bool = True
    numero_immatriculation: str | None = None
    parcelles: list[str | None] = field(default_factory=list)  # the declared parcels as FF idpar

    def add(self, failure: Failure) -> None:
        """A business failure found later (WS2 existence), placed in the controls' order."""
        order = {code: i for i, code in enumerate(BUSINESS)}
        rank = order.get(failure.code, len(order))
        at = next((i for i, f in enumerate(self.controles) if order.get(f.code, -1) > rank), len(self.controles))
        self.controles.insert(at, failure)

    @property
    def bloquants(self) -> list[Failure]:
        cat = catalogue()
        return [f for f in self.controles if cat[f.code].bloquant]

    @property
    def acceptee(self) -> bool:
        return not self.bloquants

    @property
    def codes(self) -> list[str]:
        return sorted({f.code for f in self.controles})

    def as_json(self) -> dict[str, Any]:
        cat = catalogue()
        return {
            "service": self.service,
            "statut": "acceptee" if self.acceptee else "rejetee",
            "structure_valide": self.structure_valide,
            "numero_immatriculation": self.numero_immatriculation,
            "controles": [
                {"code": f.code, "niveau": cat[f.code].niveau, "message": cat[f.code].message,
                 "champ": f.champ, "detail": f.detail}
                for f in self.controles
            ],
        }


def controler(doc: Any, *, recu_le: dt.datetime | None = None, registre: Registre | None = None) -> Reponse:
    """Every control of the contract on one parsed declaration.

    Structure first: a document that does not conform to its schema gets only its structure
    failures (the business controls assume the types). `registre` answers the existence of a WS2
    number; without one, `M_IMMAT_INCONNUE` is not evaluated.
    """
    service = doc.get("service") if isinstance(doc, dict) else None
    structure = structure_failures(doc)
    if structure:
        return Reponse(service if service in ("WS1", "WS2") else None, structure, structure_valide=False)
    ctx = Contexte(doc, service, recu_le, registre)
    failures: list[Failure] = []
    for check in _checks_of(service):
        failures.extend(check(ctx))
    return Reponse(service, failures, parcelles=ctx.idpar)


@functools.cache
def _checks_of(service: str) -> tuple[Check, ...]:
    cat = catalogue()
    return tuple(check for code, check in BUSINESS.items() if service in cat[code].services)
