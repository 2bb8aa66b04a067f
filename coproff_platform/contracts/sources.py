"""What each source looks like and how its raw fields become staging columns: one declarative place.

For every source: the raw fields (canonical name as the current release spells it, after
`normalise.normalise_name`, plus aliases of older releases and human-label downloads), which ones
a file must have, the normaliser producing each staging column, the registry controls and the
reason codes. The loader (`coproff_platform.loading`), the sample generator and the tests read
these objects; the staging columns themselves are in `contracts.tables`.

Reading rules shared by all sources: columns are matched by normalised name, never by position;
an unnamed leading column (R's `write.csv` row names) and unknown columns are ignored (and
reported); `NA`, `non connu` and empty strings are NULL.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pathlib import Path

from coproff_platform import normalise as n
from coproff_platform.contracts import suites
from coproff_platform.contracts import referencedata
from coproff_platform.contracts.referencedata import parameter as _parameter
from coproff_platform.contracts.tables import (
    CADASTRE_PARCELLE,
    DPE,
    DV3F,
    DVF,
    FF_PARCELLE,
    FF_TUP,
    LOVAC,
    RNIC,
    Table,
)


SQL_DIR = Path(__file__).resolve().parent / "sql"


@dataclass(frozen=True)
class RawField:
    """A field of the landing file. `name` is the canonical normalised name."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    label: str | None = None  # header of the older French-label release, when it differs


@dataclass(frozen=True)
class Rule:
    """Staging column (or `_virtual` value) ← normaliser(raw fields...).

    `hard`: an `Invalid` value quarantines the row; otherwise the value becomes NULL and the
    reason code is recorded as a soft issue (in `controles` for RNIC). `not_null`: a missing value
    quarantines the row with reason `<column>_manquant`.
    """

    column: str
    inputs: tuple[str, ...]
    fn: Callable[..., Any]
    hard: bool = True
    not_null: bool = False


@dataclass(frozen=True)
class Derived:
    """Column computed from the other outputs of the same row (e.g. a point from lon/lat)."""

    column: str
    fn: Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Control:
    """Soft registry control: when `fails(row)` the code is added to the row's flags."""

    code: str
    fails: Callable[[dict[str, Any]], bool]
    doc: str


@dataclass(frozen=True)
class SourceSpec:
    name: str  # quarantine `source` value
    table: Table
    folder: str  # landing sub-folder
    patterns: tuple[str, ...]  # file globs inside the folder
    fields: tuple[RawField, ...]
    rules: tuple[Rule, ...]
    derived: tuple[Derived, ...] = ()
    controls: tuple[Control, ...] = ()
    flags_column: str | None = None  # text[] column receiving soft issue codes
    # Columns computed in SQL after COPY (reprojection): column -> expression over the loaded row.
    sql_columns: dict[str, str] = field(default_factory=dict)
    line_hash_column: str | None = None
    raw_in_quarantine: bool = True  # False when unlisted columns may hold personal data
    variant: str = "default"
    # How files are read: "csv" (delimited text, `loading.reader`) or "geojson" (one feature per
    # line, `loading.geojson`).
    reader: str = "csv"

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @functools.cached_property
    def aliases(self) -> dict[str, str]:
        return self.alias_map()

    def alias_map(self) -> dict[str, str]:
        """Normalised header name → canonical raw field name."""
        mapping: dict[str, str] = {}
        for f in self.fields:
            for name in (f.name, *f.aliases, *((f.label,) if f.label else ())):
                mapping.setdefault(n.normalise_name(name), f.name)
        return mapping

    def resolve(self, header_name: str) -> str | None:
        """Canonical field for a header cell, or None when the column is unknown."""
        key = n.normalise_name(header_name)
        mapping = self.aliases
        if key in mapping:
            return mapping[key]
        # The current RNIC file truncates long labels to 63–64 characters: a full label matches
        # the canonical name it starts with.
        for canonical in mapping.values():
            if len(canonical) >= 60 and key.startswith(canonical):
                return canonical
        return None

    @property
    def copy_columns(self) -> list[str]:
        """Columns the loader writes with COPY, in order."""
        cols = ["millesime"]
        cols += [r.column for r in self.rules if not r.column.startswith("_")]
        cols += [d.column for d in self.derived if not d.column.startswith("_")]
        if self.flags_column:
            cols.append(self.flags_column)
        if self.line_hash_column:
            cols.append(self.line_hash_column)
        cols += ["source_file", "source_line"]
        missing = set(cols) - set(self.table.column_names)
        if missing:
            raise ValueError(f"{self.name}: columns {sorted(missing)} are not in {self.table.qualified}")
        return cols


# Reason codes: hard ones quarantine the row, soft ones flag it. French, as published.
REASONS: dict[str, str] = {
    # reading
    "ligne_malformee": "Nombre de champs différent de l'en-tête",
    "csv_invalide": "Ligne CSV illisible (guillemets, caractère nul)",
    "cle_dupliquee": "Clé déjà présente dans le millésime (première occurrence conservée)",
    # values (hard or soft depending on the rule)
    "num_immat_manquant": "Numéro d'immatriculation absent",
    "num_immat_invalide": "Numéro d'immatriculation mal formé (2 lettres + 7 chiffres attendus)",
    "num_immat_principal_invalide": "Numéro du syndicat principal mal formé",
    "date_invalide": "Date illisible",
    "nombre_invalide": "Nombre illisible",
    "coordonnee_invalide": "Coordonnée illisible",
    "code_insee_invalide": "Code commune invalide",
    "code_postal_invalide": "Code postal invalide",
    "departement_invalide": "Code département invalide",
    "reference_cadastrale_invalide": "Référence cadastrale mal formée",
    "periode_inconnue": "Période de construction inconnue",
    "booleen_invalide": "Valeur oui/non illisible",
    "siret_invalide": "SIRET mal formé (14 chiffres attendus)",
    "etiquette_invalide": "Étiquette hors A–G",
    "geometrie_invalide": "Géométrie illisible (EWKT avec SRID ou EWKB hexadécimal attendu)",
    "tableau_invalide": "Liste illisible",
    "typetup_invalide": "Type de TUP inconnu",
    # registry controls (soft, RNIC `controles`)
    "lots_incoherents": "Lots d'habitation > lots habitation/bureaux/commerces, ou ceux-ci > total",
    "immat_avant_2016_11": "Immatriculation antérieure à l'ouverture du registre (01/11/2016)",
    "maj_avant_immat": "Dernière mise à jour antérieure à l'immatriculation",
    "siret_cle_invalide": "SIRET dont la clé de contrôle (Luhn) est fausse",
    "cp_hors_departement": "Code postal incohérent avec le département",
    "point_hors_france": "Point hors de la France métropolitaine et des DROM",
    "point_loin_commune": "Point loin des parcelles (FF ou cadastre) de sa commune",
    "lots_improbables": "Nombre de lots improbable (au-delà du seuil du référentiel), ligne conservée",
    # one bad value costs one row
    "caractere_nul": "Caractère nul (0x00) dans un champ",
    "nombre_hors_limites": "Nombre hors des limites d'un entier (±2 147 483 647)",
    "nombre_negatif": "Nombre négatif là où seul un compte positif a un sens",
    "encodage_illisible": "Ligne illisible en UTF-8 comme en Windows-1252",
    "geometrie_non_fermee": "Anneau de polygone non fermé ou trop court",
    "geometrie_reparee": "Géométrie auto-intersectée réparée (ST_MakeValid), ligne conservée",
    "geometrie_irreparable": "Géométrie invalide que ST_MakeValid ne rend pas surfacique",
    "geometrie_type_invalide": "Type de géométrie inattendu (polygone ou multipolygone attendu)",
    "srid_inconnu": "SRID inconnu de PostGIS",
    "srid_incoherent": "Coordonnées hors du domaine de la projection déclarée",
    "identifiant_parcelle_invalide": "Identifiant de parcelle absent ou mal formé (14 caractères attendus)",
    "objet_illisible": "Objet GeoJSON illisible",
    "source_ignoree": "Source ignorée pour ce millésime",
}


# ------------------------------------------------------------------------------------------------
# RNIC
# ------------------------------------------------------------------------------------------------
def _rf(name: str, label: str | None = None, *aliases: str, required: bool = False) -> RawField:
    return RawField(name, tuple(aliases), required, label)


RNIC_FIELDS: tuple[RawField, ...] = (
    _rf("epci", "EPCI"),
    _rf("commune", "Commune", "code_commune"),
    _rf("numero_d_immatriculation", "Numéro d'immatriculation", "num_immat", "numero_immatriculation", required=True),
    _rf("date_d_immatriculation", "Date d'immatriculation", "date_immatriculation", required=True),
    _rf("date_de_la_derniere_maj", "Date de la dernière MAJ", "date_derniere_maj", "date_de_derniere_mise_a_jour"),
    _rf("type_de_syndic_benevole_professionnel_non_connu", "Type de syndic : bénévole / professionnel / non connu", "type_de_syndic"),
    _rf("identification_du_representant_legal_raison_sociale_et_le_numer",
        "Identification du représentant légal (raison sociale et le numéro SIRET du syndic professionnel)"),
    _rf("raison_sociale_du_representant_legal", "Raison sociale du représentant légal"),
    _rf("siret_du_representant_legal", "SIRET du représentant légal", "siret"),
    _rf("code_ape", "Code APE"),
    _rf("commune_du_representant_legal", "Commune du représentant légal"),
    _rf("mandat_en_cours_dans_la_copropriete", "Mandat en cours dans la copropriété"),
    _rf("date_de_fin_du_dernier_mandat", "Date de fin du dernier mandat"),
    _rf("nom_d_usage_de_la_copropriete", "Nom d’usage de la copropriété"),
    _rf("adresse_de_reference", "Adresse de référence"),
    _rf("numero_et_voie_adresse_de_reference", "Numéro et Voie (adresse de référence)"),
    _rf("code_postal_adresse_de_reference", "Code postal (adresse de référence)"),
    _rf("commune_adresse_de_reference", "Commune (adresse de référence)"),
    _rf("adresse_complementaire_1", "Adresse complémentaire 1"),
    _rf("adresse_complementaire_2", "Adresse complémentaire 2"),
    _rf("adresse_complementaire_3", "Adresse complémentaire 3"),
    _rf("nombre_d_adresses_complementaires", "Nombre d'adresses complémentaires"),
    _rf("long", "Longitude", "longitude", "lon"),
    _rf("lat", "Latitude", "latitude"),
    _rf("date_du_reglement_de_copropriete", "Date du règlement de copropriété"),
    _rf("residence_service", "Résidence service"),
    _rf("syndicat_cooperatif", "Syndicat coopératif"),
    _rf("syndicat_principal_ou_syndicat_secondaire", "Syndicat principal ou syndicat secondaire"),
    _rf("si_secondaire_n_d_immatriculation_du_principal", "Si secondaire, n° d’immatriculation du principal"),
    _rf("nombre_d_asl_auxquelles_est_rattache_le_syndicat_de_coproprieta",
        "Nombre d'ASL auxquelles est rattaché le syndicat de copropriétaires"),
    _rf("nombre_d_aful_auxquelles_est_rattache_le_syndicat_de_copropriet",
        "Nombre d'AFUL auxquelles est rattaché le syndicat de copropriétaires"),
    _rf("nombre_d_unions_de_syndicats_auxquelles_est_rattache_le_syndica",
        "Nombre d'Unions de syndicats auxquelles est rattaché le syndicat de copropriétaires"),
    _rf("nombre_total_de_lots", "Nombre total de lots", required=True),
    _rf("nombre_total_de_lots_a_usage_d_habitation_de_bureaux_ou_de_comm",
        "Nombre total de lots à usage d’habitation, de bureaux ou de commerces"),
    _rf("nombre_de_lots_a_usage_d_habitation", "Nombre de lots à usage d’habitation", required=True),
    _rf("nombre_de_lots_de_stationnement", "Nombre de lots de stationnement"),
    _rf("periode_de_construction", "Période de construction"),
    *(
        _rf(f"{base}_{i}", f"{label} {i}")
        for i in (1, 2, 3)
        for base, label in (
            ("reference_cadastrale", "Référence Cadastrale"),
            ("code_insee_commune", "Code INSEE commune"),
            ("prefixe", "Préfixe"),
            ("section", "Section"),
            ("numero_parcelle", "Numéro parcelle"),
        )
    ),
    _rf("nombre_de_parcelles_cadastrales", "Nombre de parcelles cadastrales"),
    _rf("nom_qp_2015", "Nom QP 2015", "nom_qp"),
    _rf("code_qp_2015", "Code QP 2015", "code_qp"),
    _rf("nom_qp_2024", "Nom QP 2024"),
    _rf("code_qp_2024", "Code QP 2024"),
    _rf("copro_dans_acv", "Copro dans ACV"),
    _rf("copro_dans_pvd", "Copro dans PVD"),
    _rf("code_de_pdp", "Code de PDP"),
    _rf("copro_dans_pdp", "Copro dans PDP"),
    _rf("copro_aidee", "Copro aidée"),
    _rf("code_officiel_commune", "Code Officiel Commune"),
    _rf("nom_officiel_commune", "Nom Officiel Commune"),
    _rf("code_officiel_arrondissement_commune", "Code Officiel Arrondissement Commune"),
    _rf("nom_officiel_arrondissement_commune", "Nom Officiel Arrondissement Commune"),
    _rf("code_officiel_epci", "Code Officiel EPCI"),
    _rf("nom_officiel_epci", "Nom Officiel EPCI"),
    _rf("code_officiel_departement", "Code Officiel Département"),
    _rf("nom_officiel_departement", "Nom Officiel Département"),
    _rf("code_officiel_region", "Code Officiel Région"),
    _rf("nom_officiel_region", "Nom Officiel Région"),
    # 56-column release only: known, not loaded
    _rf("nombre_arretes_code_sante_publique_en_cours"),
    _rf("nombre_arretes_peril_parties_communes_en_cours"),
    _rf("nombre_arretes_equipements_communs_en_cours"),
)

# French label header of the older release, in the current column order (generator + tests).
RNIC_LABELS: dict[str, str] = {f.name: f.label for f in RNIC_FIELDS if f.label}
RNIC_COLUMNS_72: tuple[str, ...] = tuple(f.name for f in RNIC_FIELDS[:72])


def _ref(i: int) -> Rule:
    return Rule(
        f"idpar_{i}",
        (f"reference_cadastrale_{i}", f"code_insee_commune_{i}", f"prefixe_{i}", f"section_{i}", f"numero_parcelle_{i}"),
        n.idpar_ref_or_parts,
        hard=False,
    )


def _raison_sociale(raw: str | None) -> str | None:
    value = n.text(raw)
    # Bénévole syndics are anonymised in open data; that placeholder is not a name.
    return None if value is not None and value.lower().startswith("identité non partagée") else value


def _type_syndic(raw: str | None) -> str | None:
    value = n.text(raw)
    return value.lower() if value else None


def _l_idpar(o: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for key in ("idpar_1", "idpar_2", "idpar_3"):
        if o[key] and o[key] not in seen:
            seen.append(o[key])
    return seen


def _point_4326(o: dict[str, Any]) -> str | None:
    return n.point_ewkt(o["_lon"], o["_lat"], 4326)


def _lots_incoherents(o: dict[str, Any]) -> bool:
    hab, hbc, total = o["lots_hab"], o["lots_hab_bur_com"], o["lots_total"]
    return (hab is not None and hbc is not None and hab > hbc) or (
        hbc is not None and total is not None and hbc > total
    )


def _lots(raw: str | None) -> int | None:
    """A lot count: a whole number, never negative (a negative count is a broken row)."""
    value = n.integer(raw)
    if value is not None and value < 0:
        raise n.Invalid("nombre_negatif", f"{raw!r}: a number of lots cannot be negative")
    return value


def _lots_improbables(o: dict[str, Any]) -> bool:
    # Possible but absurd counts (999,999 lots) stay loaded, flagged for the analyst.
    return any(o[c] is not None and o[c] >= LOTS_IMPROBABLES_MIN
               for c in ("lots_total", "lots_hab_bur_com", "lots_hab", "lots_stationnement"))


REGISTRY_OPENING: dt.date = _parameter("ouverture_registre")
LOTS_IMPROBABLES_MIN: int = _parameter("lots_improbables_min")


def _cp_hors_departement(o: dict[str, Any]) -> bool:
    dep = o["code_departement"] or (n.departement_of_insee(o["code_commune"]) if o["code_commune"] else None)
    return bool(o["code_postal"] and dep and dep not in n.departements_of_postcode(o["code_postal"]))


def _num_immat_principal(raw: str | None) -> str | None:
    # Named (not a lambda): the loader's SQL twins (loading/sqlrules.py) are keyed by function.
    return _soft_code(n.num_immat, "num_immat_principal_invalide", raw)


RNIC_SPEC = SourceSpec(
    name="rnic",
    table=RNIC,
    folder="rnic",
    patterns=("*.csv",),
    fields=RNIC_FIELDS,
    rules=(
        Rule("num_immat", ("numero_d_immatriculation",), n.num_immat, not_null=True),
        Rule("epci", ("epci",), n.text),
        Rule("code_commune", ("commune",), n.insee, hard=False),
        Rule("date_immat", ("date_d_immatriculation",), n.date),
        Rule("date_maj", ("date_de_la_derniere_maj",), n.date),
        Rule("type_syndic", ("type_de_syndic_benevole_professionnel_non_connu",), _type_syndic),
        Rule("syndic_raison_sociale", ("raison_sociale_du_representant_legal",), _raison_sociale),
        Rule("syndic_siret", ("siret_du_representant_legal",), n.siret, hard=False),
        Rule("syndic_code_ape", ("code_ape",), n.text),
        Rule("mandat", ("mandat_en_cours_dans_la_copropriete",), n.text),
        Rule("date_fin_mandat", ("date_de_fin_du_dernier_mandat",), n.date),
        Rule("nom_copro", ("nom_d_usage_de_la_copropriete",), n.text),
        Rule("adresse", ("adresse_de_reference",), n.address),
        Rule("numero_voie", ("numero_et_voie_adresse_de_reference",), n.address),
        Rule("code_postal", ("code_postal_adresse_de_reference",), n.postcode, hard=False),
        Rule("commune_adresse", ("commune_adresse_de_reference",), n.text),
        Rule("nb_adresses_compl", ("nombre_d_adresses_complementaires",), n.integer),
        Rule("date_reglement", ("date_du_reglement_de_copropriete",), n.date),
        Rule("residence_service", ("residence_service",), n.boolean, hard=False),
        Rule("syndicat_cooperatif", ("syndicat_cooperatif",), n.boolean, hard=False),
        Rule("syndicat_principal", ("syndicat_principal_ou_syndicat_secondaire",), n.boolean, hard=False),
        Rule("num_immat_principal", ("si_secondaire_n_d_immatriculation_du_principal",),
             _num_immat_principal, hard=False),
        Rule("lots_total", ("nombre_total_de_lots",), _lots),
        Rule("lots_hab_bur_com", ("nombre_total_de_lots_a_usage_d_habitation_de_bureaux_ou_de_comm",), _lots),
        Rule("lots_hab", ("nombre_de_lots_a_usage_d_habitation",), _lots),
        Rule("lots_stationnement", ("nombre_de_lots_de_stationnement",), _lots),
        Rule("p_constr", ("periode_de_construction",), n.period, hard=False),
        _ref(1), _ref(2), _ref(3),
        Rule("nb_parcelles", ("nombre_de_parcelles_cadastrales",), n.integer),
        Rule("code_qp_2015", ("code_qp_2015",), n.text),
        Rule("code_qp_2024", ("code_qp_2024",), n.text),
        Rule("copro_dans_acv", ("copro_dans_acv",), n.boolean, hard=False),
        Rule("copro_dans_pvd", ("copro_dans_pvd",), n.boolean, hard=False),
        Rule("copro_dans_pdp", ("copro_dans_pdp",), n.boolean, hard=False),
        Rule("copro_aidee", ("copro_aidee",), n.boolean, hard=False),
        Rule("code_officiel_commune", ("code_officiel_commune",), n.insee, hard=False),
        Rule("code_arrondissement", ("code_officiel_arrondissement_commune",), n.insee, hard=False),
        Rule("code_departement", ("code_officiel_departement",), n.departement, hard=False),
        Rule("code_region", ("code_officiel_region",), n.text),
        Rule("_lon", ("long",), n.coordinate),
        Rule("_lat", ("lat",), n.coordinate),
    ),
    derived=(Derived("l_idpar", _l_idpar), Derived("geom", _point_4326)),
    controls=(
        Control("lots_incoherents", _lots_incoherents, REASONS["lots_incoherents"]),
        Control("lots_improbables", _lots_improbables, REASONS["lots_improbables"]),
        Control("immat_avant_2016_11",
                lambda o: o["date_immat"] is not None and o["date_immat"] < REGISTRY_OPENING,
                REASONS["immat_avant_2016_11"]),
        Control("maj_avant_immat",
                lambda o: o["date_maj"] is not None and o["date_immat"] is not None and o["date_maj"] < o["date_immat"],
                REASONS["maj_avant_immat"]),
        Control("siret_cle_invalide",
                lambda o: o["syndic_siret"] is not None and not n.siret_checksum_ok(o["syndic_siret"]),
                REASONS["siret_cle_invalide"]),
        Control("cp_hors_departement", _cp_hors_departement, REASONS["cp_hors_departement"]),
        Control("point_hors_france",
                lambda o: o["_lon"] is not None and o["_lat"] is not None and not n.in_france(o["_lon"], o["_lat"]),
                REASONS["point_hors_france"]),
    ),
    flags_column="controles",
)


def _soft_code(fn: Callable[[Any], Any], reason: str, value: Any) -> Any:
    try:
        return fn(value)
    except n.Invalid as exc:
        raise n.Invalid(reason, exc.detail) from None


# ------------------------------------------------------------------------------------------------
# Fichiers fonciers
# ------------------------------------------------------------------------------------------------
def _year(raw: str | None) -> int | None:
    value = n.integer(raw)
    return value if value else None  # FF writes 0 for "no local / unknown year"


def _ff_idpar(o: dict[str, Any]) -> str | None:
    return o["_idpar"] or o["_idpar_parts"]


def _geom_srid(column: str) -> Callable[[dict[str, Any]], Any]:
    def get(o: dict[str, Any]) -> Any:
        value = o[column]
        return value[0] if value else None

    return get


def _srid_of(*columns: str) -> Callable[[dict[str, Any]], int]:
    def get(o: dict[str, Any]) -> int:
        for column in columns:
            if o[column]:
                return o[column][1]
        return n.local_srid(o["ccodep"])

    return get


def _ccodep(raw: str | None) -> str | None:
    return n.departement(raw)


FF_PARCELLE_SPEC = SourceSpec(
    name="ff_parcelle",
    table=FF_PARCELLE,
    folder="ff",
    patterns=("pnb10_parcelle*.csv", "*parcelle*.csv"),
    fields=(
        RawField("idpar", required=True),
        RawField("idtup"),
        RawField("idcom", required=True),
        RawField("ccodep", required=True),
        RawField("ccocom"), RawField("ccopre"), RawField("ccosec"), RawField("dnupla"),
        RawField("dcntpa"), RawField("jannatmin"), RawField("nlocal"), RawField("nlogh"),
        RawField("ctpdl"),
        RawField("geompar", ("geom", "geometry")),
    ),
    rules=(
        Rule("_idpar", ("idpar",), n.idpar),
        Rule("_idpar_parts", ("idcom", "ccopre", "ccosec", "dnupla"), n.idpar_from_parts),
        Rule("idtup", ("idtup",), n.text),
        Rule("idcom", ("idcom",), n.insee, not_null=True),
        Rule("ccodep", ("ccodep",), _ccodep, not_null=True),
        Rule("dcntpa", ("dcntpa",), n.integer),
        Rule("jannatmin", ("jannatmin",), _year),
        Rule("nlocal", ("nlocal",), n.integer),
        Rule("nlogh", ("nlogh",), n.integer),
        Rule("ctpdl", ("ctpdl",), n.text),
        Rule("_geompar", ("geompar",), n.ewkt_or_ewkb),
    ),
    derived=(
        Derived("idpar", _ff_idpar),
        Derived("srid", _srid_of("_geompar")),
        Derived("geompar", _geom_srid("_geompar")),
    ),
    sql_columns={
        "geompar": "st_multi(geompar)",
        "geompar_4326": "st_multi(st_transform(geompar, 4326))",
    },
)

TYPETUP = frozenset(referencedata.codes("types_tup"))


def _typetup(raw: str | None) -> str | None:
    value = n.text(raw)
    if value is None:
        return None
    if value.upper() not in TYPETUP:
        raise n.Invalid("typetup_invalide", f"typetup {raw!r} is not one of {', '.join(sorted(TYPETUP))}")
    return value.upper()


def _l_idpar_tup(raw: str | None) -> list[str] | None:
    items = n.pg_array_text(raw)
    return None if items is None else [n.idpar(i) for i in items]


def _nparcel(o: dict[str, Any]) -> int | None:
    if o["_nparcel"] is not None:
        return o["_nparcel"]
    return len(o["l_idpar"]) if o["l_idpar"] is not None else None


FF_TUP_SPEC = SourceSpec(
    name="ff_tup",
    table=FF_TUP,
    folder="ff",
    patterns=("tup*.csv",),
    fields=(
        RawField("idtup", required=True),
        RawField("typetup", required=True),
        RawField("idcom", required=True),
        RawField("ccodep", required=True),
        RawField("l_idpar", required=True),
        RawField("nparcel"), RawField("dcntpa"), RawField("ctpdl"), RawField("nlocal"),
        RawField("nlogh"), RawField("nloghcopro"), RawField("jannatmin"),
        RawField("geomtup"), RawField("geompoint"),
    ),
    rules=(
        Rule("idtup", ("idtup",), n.text, not_null=True),
        Rule("typetup", ("typetup",), _typetup, not_null=True),
        Rule("idcom", ("idcom",), n.insee, not_null=True),
        Rule("ccodep", ("ccodep",), _ccodep, not_null=True),
        Rule("l_idpar", ("l_idpar",), _l_idpar_tup, not_null=True),
        Rule("_nparcel", ("nparcel",), n.integer),
        Rule("dcntpa", ("dcntpa",), n.integer),
        Rule("ctpdl", ("ctpdl",), n.text),
        Rule("nlocal", ("nlocal",), n.integer),
        Rule("nlogh", ("nlogh",), n.integer),
        Rule("nloghcopro", ("nloghcopro",), n.integer),
        Rule("jannatmin", ("jannatmin",), _year),
        Rule("_geomtup", ("geomtup",), n.ewkt_or_ewkb),
        Rule("_geompoint", ("geompoint",), n.ewkt_or_ewkb),
    ),
    derived=(
        Derived("nparcel", _nparcel),
        Derived("srid", _srid_of("_geomtup", "_geompoint")),
        Derived("geomtup", _geom_srid("_geomtup")),
        Derived("geompoint", _geom_srid("_geompoint")),
    ),
    sql_columns={
        "geomtup": "st_multi(geomtup)",
        "geomtup_4326": "st_multi(st_transform(geomtup, 4326))",
        "geompoint_4326": "st_transform(geompoint, 4326)",
    },
)

# ------------------------------------------------------------------------------------------------
# DPE (ADEME dpe03existant)
# ------------------------------------------------------------------------------------------------
def _local_point(x_key: str, y_key: str, insee_key: str) -> Callable[[dict[str, Any]], str | None]:
    def get(o: dict[str, Any]) -> str | None:
        x, y = o[x_key], o[y_key]
        if x is None or y is None or (x == 0 and y == 0):  # ADEME writes 0,0 when not geocoded
            return None
        code = o[insee_key]
        dep = n.departement_of_insee(code) if code else o.get("_dep")
        return n.point_ewkt(x, y, n.local_srid(dep))

    return get


DPE_SPEC = SourceSpec(
    name="dpe",
    table=DPE,
    folder="dpe",
    patterns=("*.csv",),
    fields=(
        RawField("numero_dpe", ("n_dpe", "numero_du_dpe", "n_dpe_"), required=True),
        RawField("date_etablissement_dpe", ("date_d_etablissement_dpe",)),
        RawField("etiquette_dpe", ("classe_consommation_energie",), required=True),
        RawField("etiquette_ges", ("classe_estimation_ges",)),
        RawField("type_batiment"),
        RawField("methode_application_dpe"),
        RawField("annee_construction"),
        RawField("periode_construction"),
        RawField("surface_habitable_logement"),
        RawField("numero_immatriculation_copropriete",
                 ("n_immatriculation_copropriete", "numero_d_immatriculation_copropriete")),
        RawField("identifiant_ban", ("identifiant_ban",)),
        RawField("adresse_ban", ("adresse_ban",)),
        RawField("code_insee_ban", ("code_insee_ban",)),
        RawField("code_postal_ban", ("code_postal_ban",)),
        RawField("code_departement_ban"),
        RawField("coordonnee_cartographique_x_ban", ("coordonnee_cartographique_x_ban", "x_ban")),
        RawField("coordonnee_cartographique_y_ban", ("coordonnee_cartographique_y_ban", "y_ban")),
    ),
    rules=(
        Rule("numero_dpe", ("numero_dpe",), n.text, not_null=True),
        Rule("date_etablissement_dpe", ("date_etablissement_dpe",), n.date),
        Rule("etiquette_dpe", ("etiquette_dpe",), n.label_a_g, hard=False),
        Rule("etiquette_ges", ("etiquette_ges",), n.label_a_g, hard=False),
        Rule("type_batiment", ("type_batiment",), n.text),
        Rule("methode_application_dpe", ("methode_application_dpe",), n.text),
        Rule("annee_construction", ("annee_construction",), n.integer),
        Rule("periode_construction", ("periode_construction",), n.text),
        Rule("surface_habitable_logement", ("surface_habitable_logement",), n.decimal),
        Rule("num_immat", ("numero_immatriculation_copropriete",), n.num_immat, hard=False),
        Rule("identifiant_ban", ("identifiant_ban",), n.text),
        Rule("adresse_ban", ("adresse_ban",), n.text),
        Rule("code_insee_ban", ("code_insee_ban",), n.insee, hard=False),
        Rule("code_postal_ban", ("code_postal_ban",), n.postcode, hard=False),
        Rule("_dep", ("code_departement_ban",), n.departement, hard=False),
        Rule("_x", ("coordonnee_cartographique_x_ban",), n.coordinate),
        Rule("_y", ("coordonnee_cartographique_y_ban",), n.coordinate),
    ),
    derived=(Derived("geom", _local_point("_x", "_y", "code_insee_ban")),),
    sql_columns={"geom": "st_transform(geom, 4326)"},
)

# ------------------------------------------------------------------------------------------------
# DVF
# ------------------------------------------------------------------------------------------------
def _surface_carrez(*values: str | None) -> Any:
    numbers = [n.decimal(v) for v in values]
    filled = [v for v in numbers if v is not None]
    return sum(filled) if filled else None


_CARREZ = tuple(f"lot{i}_surface_carrez" for i in range(1, 6))

DVF_SPEC = SourceSpec(
    name="dvf",
    table=DVF,
    folder="dvf",
    patterns=("*.csv",),
    fields=(
        RawField("id_mutation", required=True),
        RawField("date_mutation", required=True),
        RawField("numero_disposition"),
        RawField("nature_mutation"),
        RawField("valeur_fonciere", required=True),
        RawField("code_commune"),
        RawField("id_parcelle", required=True),
        RawField("code_type_local"),
        RawField("type_local"),
        RawField("surface_reelle_bati"),
        *(RawField(c) for c in _CARREZ),
        RawField("nombre_lots"),
        RawField("nombre_pieces_principales"),
        RawField("longitude", ("lon", "long")),
        RawField("latitude", ("lat",)),
    ),
    rules=(
        Rule("id_mutation", ("id_mutation",), n.text, not_null=True),
        Rule("date_mutation", ("date_mutation",), n.date, not_null=True),
        Rule("numero_disposition", ("numero_disposition",), n.text),
        Rule("nature_mutation", ("nature_mutation",), n.text),
        Rule("valeur_fonciere", ("valeur_fonciere",), n.decimal),
        Rule("code_commune", ("code_commune",), n.insee, hard=False),
        Rule("id_parcelle", ("id_parcelle",), n.idpar, hard=False),
        Rule("code_type_local", ("code_type_local",), n.integer),
        Rule("type_local", ("type_local",), n.text),
        Rule("surface_reelle_bati", ("surface_reelle_bati",), n.decimal),
        Rule("surface_carrez", _CARREZ, _surface_carrez),
        Rule("nombre_lots", ("nombre_lots",), n.integer),
        Rule("nombre_pieces_principales", ("nombre_pieces_principales",), n.integer),
        Rule("_lon", ("longitude",), n.coordinate),
        Rule("_lat", ("latitude",), n.coordinate),
    ),
    derived=(Derived("geom", _point_4326),),
    line_hash_column="line_hash",
)


def _dgfip_idpar(dep: str | None, com: str | None, pre: str | None, sec: str | None, plan: str | None) -> str | None:
    if any(n.is_missing(v) for v in (dep, com, sec, plan)):
        return None
    return n.idpar_from_parts(_dgfip_insee(dep, com), pre if not n.is_missing(pre) else "000", sec, plan)


def _dgfip_insee(dep: str | None, com: str | None) -> str | None:
    if n.is_missing(dep) or n.is_missing(com):
        return None
    d = n.departement(dep)
    c = com.strip()
    # DROM: département 971 + commune 101 → 97101 (the commune number repeats the 3rd digit).
    return n.insee(d[:2] + c.zfill(3) if len(d) == 3 else d + c.zfill(3))


def _dgfip_id_mutation(*values: str | None) -> str:
    # The raw file has no mutation id: lines of one mutation share these fields (as Etalab groups).
    import hashlib

    key = "|".join((v or "").strip() for v in values)
    return "dgfip-" + hashlib.md5(key.encode()).hexdigest()[:16]


DVF_DGFIP_SPEC = SourceSpec(
    name="dvf",
    variant="dgfip",
    table=DVF,
    folder="dvf",
    patterns=("*.txt",),
    fields=(
        RawField("date_mutation", required=True),
        RawField("nature_mutation"),
        RawField("valeur_fonciere", required=True),
        RawField("no_disposition"),
        RawField("code_departement", required=True),
        RawField("code_commune", required=True),
        RawField("prefixe_de_section"),
        RawField("section", required=True),
        RawField("no_plan", required=True),
        RawField("reference_document"),
        RawField("code_type_local"),
        RawField("type_local"),
        RawField("surface_reelle_bati"),
        *(RawField(f"surface_carrez_du_{k}_lot") for k in ("1er", "2eme", "3eme", "4eme", "5eme")),
        RawField("nombre_de_lots"),
        RawField("nombre_pieces_principales"),
    ),
    rules=(
        Rule("id_mutation", ("code_departement", "code_commune", "date_mutation", "nature_mutation",
                             "valeur_fonciere", "reference_document"), _dgfip_id_mutation),
        Rule("date_mutation", ("date_mutation",), n.date, not_null=True),
        Rule("numero_disposition", ("no_disposition",), n.text),
        Rule("nature_mutation", ("nature_mutation",), n.text),
        Rule("valeur_fonciere", ("valeur_fonciere",), n.decimal),
        Rule("code_commune", ("code_departement", "code_commune"), _dgfip_insee, hard=False),
        Rule("id_parcelle", ("code_departement", "code_commune", "prefixe_de_section", "section", "no_plan"),
             _dgfip_idpar, hard=False),
        Rule("code_type_local", ("code_type_local",), n.integer),
        Rule("type_local", ("type_local",), n.text),
        Rule("surface_reelle_bati", ("surface_reelle_bati",), n.decimal),
        Rule("surface_carrez", tuple(f"surface_carrez_du_{k}_lot" for k in ("1er", "2eme", "3eme", "4eme", "5eme")),
             _surface_carrez),
        Rule("nombre_lots", ("nombre_de_lots",), n.integer),
        Rule("nombre_pieces_principales", ("nombre_pieces_principales",), n.integer),
    ),
    derived=(Derived("geom", lambda o: None),),
    line_hash_column="line_hash",
)

# ------------------------------------------------------------------------------------------------
# DV3F (Cerema, restricted): one row per mutation, parcels and locals as PostgreSQL arrays
# ------------------------------------------------------------------------------------------------
def _idpar_array(raw: str | None) -> list[str] | None:
    items = n.pg_array_text(raw)
    return None if items is None else [p for p in dict.fromkeys(n.idpar(i) for i in items) if p]


def _text_array(raw: str | None) -> list[str] | None:
    return n.pg_array_text(raw)


def _anneemut(o: dict[str, Any]) -> int | None:
    # The export repeats the year of datemut; derived from the date when the column is absent.
    if o["_anneemut"] is not None:
        return o["_anneemut"]
    return o["datemut"].year if o["datemut"] is not None else None


DV3F_SPEC = SourceSpec(
    name="dv3f",
    table=DV3F,
    folder="dv3f",
    patterns=("*.csv", "*.txt"),
    fields=(
        RawField("idmutation", ("id_mutation",), required=True),
        RawField("datemut", ("date_mutation",), required=True),
        RawField("anneemut", ("annee_mutation",)),
        RawField("valeurfonc", ("valeur_fonciere",), required=True),
        RawField("l_idpar", required=True),
        RawField("l_idlocmut"),
        RawField("nblocapt", required=True),
        RawField("sbatapt"),
        RawField("codtypbien"),
        RawField("libtypbien"),
        RawField("vefa"),
    ),
    rules=(
        Rule("idmutation", ("idmutation",), n.text, not_null=True),
        Rule("datemut", ("datemut",), n.date, not_null=True),
        Rule("_anneemut", ("anneemut",), _year),
        Rule("valeurfonc", ("valeurfonc",), n.decimal),
        Rule("l_idpar", ("l_idpar",), _idpar_array, not_null=True),
        Rule("l_idlocmut", ("l_idlocmut",), _text_array),
        Rule("nblocapt", ("nblocapt",), n.integer),
        Rule("sbatapt", ("sbatapt",), n.decimal),
        Rule("codtypbien", ("codtypbien",), n.text),
        Rule("libtypbien", ("libtypbien",), n.text),
        Rule("vefa", ("vefa",), n.boolean),
    ),
    derived=(Derived("anneemut", _anneemut),),
)


# ------------------------------------------------------------------------------------------------
# LOVAC (restricted; owner columns never loaded nor copied into the quarantine)
# ------------------------------------------------------------------------------------------------
LOVAC_SPEC = SourceSpec(
    name="lovac",
    table=LOVAC,
    folder="lovac",
    patterns=("*.csv", "*.txt"),
    fields=(
        RawField("ff_idlocal", ("idlocal",), required=True),
        RawField("ff_idpar", ("idpar",)),
        RawField("invariant"),
        RawField("ff_ctpdl", ("ctpdl",)),
        RawField("debutvacance"),
        RawField("ff_ccthp", ("ccthp",)),
        RawField("ff_jannath", ("jannath",)),
        RawField("ff_stoth", ("stoth",)),
        RawField("ff_x"),
        RawField("ff_y"),
    ),
    rules=(
        Rule("ff_idlocal", ("ff_idlocal",), n.text, not_null=True),
        Rule("ff_idpar", ("ff_idpar",), n.idpar, hard=False),
        Rule("invariant", ("invariant",), n.text),
        Rule("ff_ctpdl", ("ff_ctpdl",), n.text),
        Rule("debutvacance", ("debutvacance",), n.integer),
        Rule("ff_ccthp", ("ff_ccthp",), n.text),
        Rule("ff_jannath", ("ff_jannath",), _year),
        Rule("ff_stoth", ("ff_stoth",), n.decimal),
        Rule("_x", ("ff_x",), n.coordinate),
        Rule("_y", ("ff_y",), n.coordinate),
    ),
    derived=(Derived("geom", lambda o: _lovac_point(o)),),
    sql_columns={"geom": "st_transform(geom, 4326)"},
    raw_in_quarantine=False,
)


def _lovac_point(o: dict[str, Any]) -> str | None:
    if o["_x"] is None or o["_y"] is None:
        return None
    key = o["ff_idpar"] or o["ff_idlocal"] or ""
    dep = n.departement_of_insee(key[:5]) if len(key) >= 5 else None
    return n.point_ewkt(o["_x"], o["_y"], n.local_srid(dep))


# Patterns of LOVAC column names that carry personal data; reported as "present, not loaded".
PERSONAL_COLUMNS = re.compile(
    r"(proprio|proprietaire|gestionnaire|(^|_)(prop|nom|prenom|ddenom|dlign\d*|adresse\d*|ccogrm|dnatpr|"
    r"jdatnss|date_naissance|mail|email|tel|telephone|siren)(_|\d|$))"
)


# ------------------------------------------------------------------------------------------------
# Open cadastre (Etalab): `cadastre-<insee|dep>-parcelles.json[.gz]`, GeoJSON in WGS84, one
# feature per line. Read by `loading.geojson` (no CSV fields): parsed and checked in SQL.
# ------------------------------------------------------------------------------------------------
CADASTRE_PARCELLE_SPEC = SourceSpec(
    name="cadastre_parcelle",
    table=CADASTRE_PARCELLE,
    folder="cadastre",
    patterns=("*.json", "*.json.gz", "*.geojson", "*.geojson.gz"),
    fields=(),
    rules=(),
    reader="geojson",
)


# ------------------------------------------------------------------------------------------------
# The sources, declared once: assets, reconciliation checks, GX suites, landing-zone checks, the
# sensor's required folders and the sample generator all derive from `SOURCES`.
# ------------------------------------------------------------------------------------------------
REQUIRED = "obligatoire"
OPTIONAL = "optionnelle"
PARCELS = "parcelles"  # one parcel source is required: the first folder of `PARCEL_FOLDERS` with files


@dataclass(frozen=True)
class Source:
    """One source of a millésime: what it is, where it lands, whether it is needed, how it loads."""

    name: str  # asset `staging/<name>`, table `staging.<name>`, quarantine `source`
    specs: tuple[SourceSpec, ...]  # format variants, first match wins
    description: str  # French, shown in the UI
    requirement: str  # REQUIRED, OPTIONAL or PARCELS
    sample_writer: str  # "module:function" writing the sample files of this source
    exclude_prefixes: tuple[str, ...] = ()  # files of a shared folder that belong to another source
    depends_on: tuple[str, ...] = ()  # sources whose staging rows the post-load SQL reads
    post_load_sql: str | None = None  # file of `contracts/sql/`, run on the fresh table (`{table}`)
    post_load_flag: str | None = None  # soft code counted per file from the rows it returns
    kinds: frozenset[str] = frozenset({"postgres", "csv"})
    # Key of `<folder>/source.yml` naming a restored PostgreSQL table to read instead of files.
    database_key: str | None = None
    suite: Callable[[int], list[suites.Exp]] | None = None  # GX expectations of its staged partition

    def expectations(self, millesime: int) -> list[suites.Exp]:
        """The staged partition's GX suite: the common expectations, then the source's own."""
        own = self.suite(millesime) if self.suite else []
        return suites.common(self.table.column_names, millesime, optional=self.requirement != REQUIRED) + own

    @property
    def spec(self) -> SourceSpec:
        return self.specs[0]

    @property
    def table(self) -> Table:
        return self.spec.table

    @property
    def folder(self) -> str:
        return self.spec.folder

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for s in self.specs for p in s.patterns))

    @property
    def optional(self) -> bool:
        return self.requirement == OPTIONAL

    def post_load(self) -> str | None:
        return (SQL_DIR / self.post_load_sql).read_text(encoding="utf-8") if self.post_load_sql else None

    def post_load_params(self) -> dict[str, Any]:
        return {"distance_m": int(_parameter("point_loin_commune_m"))} if self.post_load_sql else {}

    def landing_label(self) -> str:
        return f"<landing>/<millesime>/{self.folder}/ ({', '.join(self.patterns)})"


_WRITERS = "coproff_platform.sample.writers"

SOURCES: dict[str, Source] = {s.name: s for s in (
    Source(
        "rnic", (RNIC_SPEC,),
        "Registre national d'immatriculation des copropriétés (ANAH, CSV open data, toutes versions "
        "d'en-tête) : numéro à 9 caractères, dates, booléens, références cadastrales au format idpar "
        "(Paris/Lyon/Marseille en arrondissement), point WGS84, contrôles du registre dans `controles`; "
        "rejets bloquants dans `quality.quarantine`. Source obligatoire.",
        REQUIRED, f"{_WRITERS}:write_rnic", suite=suites.rnic,
        # The point-far-from-commune control reads the parcels of the same millésime.
        depends_on=("ff_parcelle", "cadastre_parcelle"),
        post_load_sql="rnic_post_load.sql", post_load_flag="point_loin_commune",
    ),
    Source(
        "ff_parcelle", (FF_PARCELLE_SPEC,),
        "Parcelles des Fichiers fonciers (pnb10_parcelle, CSV avec géométrie EWKT en projection "
        "locale, ou table d'un schéma PostgreSQL restauré) : géométrie locale conservée + copie WGS84 "
        "reprojetée en SQL. Source de parcelles prioritaire : avec `ff/`, le cadastre ouvert est ignoré.",
        PARCELS, f"{_WRITERS}:write_ff_parcelle", suite=suites.ff_parcelle, exclude_prefixes=("tup",),
        database_key="parcelle",
    ),
    Source(
        "ff_tup", (FF_TUP_SPEC,),
        "Unités foncières unifiées (TUP) des Fichiers fonciers : parcelles composantes, logements, "
        "logements en copropriété, contour et point en projection locale + WGS84. Vide pour un "
        "millésime construit sur le cadastre ouvert.",
        PARCELS, f"{_WRITERS}:write_ff_tup", suite=suites.ff_tup, database_key="tup",
    ),
    Source(
        "cadastre_parcelle", (CADASTRE_PARCELLE_SPEC,),
        "Parcelles du cadastre ouvert (Etalab, `cadastre-<commune|département>-parcelles.json[.gz]`, "
        "GeoJSON WGS84) : source de parcelles quand le millésime n'a pas de dossier `ff/` (chaque "
        "parcelle devient une TUP). Ignorée, avec une note, quand `ff/` est présent.",
        PARCELS, f"{_WRITERS}:write_cadastre", suite=suites.cadastre_parcelle, kinds=frozenset({"postgres", "geojson"}),
    ),
    Source(
        "dpe", (DPE_SPEC,),
        "DPE des logements existants (ADEME dpe03existant, noms ADEME ou libellés) : étiquettes, "
        "numéro d'immatriculation déclaré, point BAN reprojeté de la projection locale en WGS84. "
        "Source optionnelle : sans fichier, 0 ligne et indicateurs DPE vides.",
        OPTIONAL, f"{_WRITERS}:write_dpe", suite=suites.dpe,
    ),
    Source(
        "dvf", (DVF_SPEC, DVF_DGFIP_SPEC),
        "DVF géolocalisées (Etalab) ou fichier brut DGFiP : une ligne par disposition × parcelle × local; "
        "les lignes strictement identiques sont gardées et partagent `line_hash`. Source optionnelle.",
        OPTIONAL, f"{_WRITERS}:write_dvf", suite=suites.dvf,
    ),
    Source(
        "dv3f", (DV3F_SPEC,),
        "DV3F (Cerema, accès restreint), une ligne par mutation : parcelles FF (`l_idpar`), appartements "
        "mutés et leur surface bâtie. Source optionnelle : sans dossier `dv3f/`, le millésime est publié "
        "avec 0 ligne et les indicateurs de ventes viennent de DVF.",
        OPTIONAL, f"{_WRITERS}:write_dv3f", suite=suites.dv3f,
    ),
    Source(
        "lovac", (LOVAC_SPEC,),
        "Logements vacants (LOVAC, accès restreint), sans aucune colonne de données personnelles; point "
        "reprojeté en WGS84. Source optionnelle.",
        OPTIONAL, f"{_WRITERS}:write_lovac", suite=suites.lovac,
    ),
)}

@dataclass(frozen=True)
class PackageSource:
    """A landing source whose files are not rows of one table (the registry's JSON declarations: one
    line feeds several tables after the registry's controls). Declared here beside `SOURCES`, so
    the landing zone and its sensor know its folder and requirement; loaded by its own package
    (`loader`), not by `loading/`, and sampled by `sample_writer`."""

    name: str
    folder: str
    patterns: tuple[str, ...]
    description: str  # French, shown in the UI
    requirement: str  # REQUIRED, OPTIONAL or PARCELS
    loader: str  # "module:function" loading one millésime of the folder
    sample_writer: str

    @property
    def optional(self) -> bool:
        return self.requirement == OPTIONAL

    def landing_label(self) -> str:
        return f"<landing>/<millesime>/{self.folder}/ ({', '.join(self.patterns)})"


PACKAGE_SOURCES: dict[str, PackageSource] = {s.name: s for s in (
    PackageSource(
        "declarations", "declarations", ("*.jsonl", "*.json"),
        "Déclarations au registre (services WS1 immatriculation et WS2 mise à jour, JSON par ligne) : "
        "contrôlées comme par le registre, les acceptées typées en blocs B, C, D, les rejetées en "
        "quarantaine. Source optionnelle : sans dossier `declarations/`, partitions vides.",
        OPTIONAL, "coproff_platform.registre.load:load_declarations",
        "coproff_platform.sample.declarations:write_sample",
    ),
)}

_clash = {p.folder for p in PACKAGE_SOURCES.values()} & {s.folder for s in SOURCES.values()}
assert not _clash, f"landing folders declared twice: {_clash}"


def landing_folders() -> dict[str, str]:
    """Every declared landing folder → its requirement (REQUIRED, OPTIONAL or PARCELS)."""
    out: dict[str, str] = {}
    for s in (*SOURCES.values(), *PACKAGE_SOURCES.values()):
        out.setdefault(s.folder, s.requirement)
    return out


# Parcel folders in order of precedence: the Fichiers fonciers win over the open cadastre.
PARCEL_FOLDERS: tuple[str, ...] = tuple(dict.fromkeys(s.folder for s in SOURCES.values() if s.requirement == PARCELS))

# Source name → the specs (format variants) its files may follow, first match wins.
SPECS: dict[str, tuple[SourceSpec, ...]] = {name: s.specs for name, s in SOURCES.items()}


def required_folders() -> tuple[tuple[str, ...], ...]:
    """What a complete millésime needs: each tuple is "one of these folders has files"."""
    required = tuple((folder,) for folder, requirement in landing_folders().items() if requirement == REQUIRED)
    return (*dict.fromkeys(required), PARCEL_FOLDERS)


def parcel_folder(has_files: Callable[[str], bool]) -> str | None:
    """The parcel folder a millésime is built from: the first of `PARCEL_FOLDERS` holding files."""
    return next((folder for folder in PARCEL_FOLDERS if has_files(folder)), None)
