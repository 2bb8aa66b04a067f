"""The `declarations/` landing source: what its files look like and the staging tables it fills.

Written in the style of `contracts.sources.SourceSpec` / `contracts.tables.Table` so that the
common source declaration format can absorb it: one declarative place for the folder, the file
patterns, the tables, the reason codes (the registry's application controls,
`dbt_like_sql/reference/controles_declaration.csv`) and what is never loaded (the mandate PDF,
the télédéclarant's mail).

A landing file is JSON Lines (`*.jsonl`, one received declaration a line) or one JSON document
(`*.json`: an envelope, or a list of envelopes). An envelope is the registry's record of one
declaration received: `{"id_depot", "recu_le", "numero_attribue", "declaration": {...}}`; the
declaration is a WS1 or WS2 document (`coproff_platform/registre/schemas/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from coproff_platform.contracts.tables import M, Col, Table

if TYPE_CHECKING:
    from coproff_platform.contracts.sources import PackageSource

ORIGIN_JSON = (
    Col("source_file", "text not null", "Fichier source (relatif à la zone de dépôt)"),
    Col("source_line", "integer not null", "Numéro de ligne (JSON Lines) ou rang du document dans le fichier (JSON), à partir de 1"),
)
DECL = (
    Col("id_depot", "text", "Identifiant du dépôt attribué par le registre à la réception"),
    Col("num_immat", "char(9)", "Numéro d'immatriculation (déclaré en WS2, attribué en WS1)"),
)

DECLARATION = Table(
    "staging.declaration",
    "Déclarations au registre acceptées (WS1 immatriculation et rattachement, WS2 mise à jour), typées ; "
    "ni le justificatif PDF (seuls son nom, sa taille et son empreinte), ni le mail du télédéclarant",
    (
        M, *DECL,
        Col("service", "text not null", "Service : WS1 (immatriculation et rattachement) ou WS2 (mise à jour)"),
        Col("type_mise_a_jour", "text", "WS2 : standard ou annuelle"),
        Col("recu_le", "timestamptz", "Date et heure de réception par le registre"),
        Col("date_transmission", "timestamptz", "Date et heure de transmission déclarées par le télédéclarant"),
        Col("teledeclarant", "text", "Identifiant du télédéclarant (logiciel ou notaire)"),
        Col("nom_usage", "text", "Nom d'usage de la copropriété"),
        Col("date_mise_en_copropriete", "date", "Date de mise en copropriété"),
        Col("siret", "char(14)", "SIRET du syndicat"),
        Col("numero_voie", "text", "Numéro dans la voie de l'adresse principale"),
        Col("voie", "text", "Voie de l'adresse principale"),
        Col("code_postal", "char(5)", "Code postal de l'adresse principale"),
        Col("commune", "text", "Commune de l'adresse principale"),
        Col("code_insee", "char(5)", "Code INSEE de la commune de l'adresse principale"),
        Col("longitude", "double precision", "Longitude WGS84 de l'adresse principale"),
        Col("latitude", "double precision", "Latitude WGS84 de l'adresse principale"),
        Col("nb_adresses_secondaires", "integer", "Nombre d'adresses secondaires déclarées"),
        Col("l_idpar", "text[]", "Parcelles cadastrales déclarées, au format idpar des Fichiers fonciers"),
        Col("residence_service", "boolean", "Résidence service"),
        Col("syndicat_cooperatif", "boolean", "Syndicat coopératif"),
        Col("syndicat_principal", "boolean", "Syndicat principal (vrai) ou secondaire (faux)"),
        Col("num_immat_principal", "char(9)", "Si secondaire : numéro d'immatriculation du syndicat principal"),
        Col("nb_asl", "integer", "Nombre d'ASL auxquelles le syndicat est rattaché"),
        Col("nb_aful", "integer", "Nombre d'AFUL auxquelles le syndicat est rattaché"),
        Col("nb_unions_syndicats", "integer", "Nombre d'unions de syndicats auxquelles le syndicat est rattaché"),
        Col("lots_total", "integer", "Nombre total de lots"),
        Col("lots_hab_bur_com", "integer", "Nombre de lots à usage d'habitation, de bureaux ou de commerces"),
        Col("lots_hab", "integer", "Nombre de lots à usage d'habitation"),
        Col("lots_stationnement", "integer", "Nombre de lots de stationnement"),
        Col("administration_provisoire", "boolean", "Rattachement : administration provisoire"),
        Col("type_justificatif", "text", "Rattachement : type du justificatif du mandat"),
        Col("justificatif_nom", "text", "Rattachement : nom du fichier PDF du justificatif"),
        Col("justificatif_octets", "integer", "Rattachement : taille du justificatif décodé, en octets"),
        Col("justificatif_sha256", "char(64)", "Rattachement : empreinte SHA-256 du justificatif décodé"),
        Col("codes_alerte", "text[]", "Contrôles d'alerte échoués (la déclaration est acceptée)"),
        *ORIGIN_JSON,
    ),
    primary_key=("millesime", "source_file", "source_line"),
    indexes=("num_immat",),
)

DECLARATION_PROCEDURE = Table(
    "staging.declaration_procedure",
    "Bloc B des déclarations acceptées : une ligne par procédure (arrêté, mandat ad hoc, ordonnance de carence)",
    (
        M, *DECL,
        Col("procedure", "text not null", "arrete, mandat_ad_hoc ou carence"),
        Col("type_arrete", "text", "Type d'arrêté (insalubrité, péril, équipements communs, ...)"),
        Col("date_debut", "date", "Date de l'arrêté, de l'ordonnance de nomination ou de carence"),
        Col("date_fin", "date", "Date de main-levée ou de fin de mission (NULL : en cours)"),
        *ORIGIN_JSON,
    ),
    indexes=("num_immat",),
)

DECLARATION_TECHNIQUE = Table(
    "staging.declaration_technique",
    "Bloc C des déclarations acceptées : bâtiments par étiquette énergie, chauffage, ascenseurs",
    (
        M, *DECL,
        Col("periode_construction", "text", "Période de construction (codes de ref.periodes_construction)"),
        Col("nb_batiments", "integer", "Nombre de bâtiments (toutes étiquettes)"),
        Col("batiments_etiquette", "jsonb", "Nombre de bâtiments par étiquette énergie : {\"A\": n, ...}"),
        Col("nb_batiments_passoires", "integer", "Bâtiments d'étiquette passoire (ref.etiquettes_dpe.passoire)"),
        Col("chauffage_type", "text", "Chauffage : collectif, individuel ou mixte"),
        Col("chauffage_urbain", "boolean", "Chauffage collectif urbain"),
        Col("chauffage_energie", "text", "Énergie du chauffage collectif non urbain"),
        Col("nb_ascenseurs", "integer", "Nombre d'ascenseurs"),
        *ORIGIN_JSON,
    ),
    indexes=("num_immat",),
)

DECLARATION_FINANCE = Table(
    "staging.declaration_finance",
    "Bloc D des déclarations acceptées : comptes du dernier exercice clos",
    (
        M, *DECL,
        Col("date_ag", "date", "Date de l'assemblée générale approuvant les comptes"),
        Col("date_cloture", "date", "Date de clôture des comptes"),
        Col("charges_courantes", "numeric(14,2)", "Charges courantes de l'exercice (euros)"),
        Col("charges_exceptionnelles", "numeric(14,2)", "Charges exceptionnelles de l'exercice (euros)"),
        Col("montant_impayes", "numeric(14,2)", "Montant des impayés des copropriétaires (euros)"),
        Col("nb_coproprietaires_impayes", "integer", "Nombre de copropriétaires en impayés"),
        Col("dettes_fournisseurs", "numeric(14,2)", "Dettes fournisseurs (euros)"),
        Col("fonds_travaux", "numeric(14,2)", "Montant du fonds de travaux (euros)"),
        Col("presence_employes", "boolean", "Le syndicat emploie du personnel"),
        *ORIGIN_JSON,
    ),
    indexes=("num_immat",),
)

DECLARATION_CONTROLE = Table(
    "staging.declaration_controle",
    "Réponse du registre à chaque déclaration lue : un contrôle échoué par ligne (bloquant ou alerte), "
    "et une ligne `aucun` pour une déclaration acceptée sans alerte",
    (
        M, *DECL,
        Col("service", "text", "Service : WS1 ou WS2 (NULL si illisible)"),
        Col("statut", "text not null", "acceptee ou rejetee"),
        Col("code", "text not null", "Code du contrôle (ref.controles_declaration), `aucun` si aucun n'a échoué"),
        Col("niveau", "text", "bloquant ou alerte"),
        Col("champ", "text", "Champ en cause (chemin JSON)"),
        Col("detail", "text", "Détail lisible"),
        *ORIGIN_JSON,
    ),
    indexes=("code",),
)

TABLES: tuple[Table, ...] = (DECLARATION, DECLARATION_PROCEDURE, DECLARATION_TECHNIQUE, DECLARATION_FINANCE,
                             DECLARATION_CONTROLE)
STAGING_TABLES: dict[str, Table] = {t.qualified.split(".")[1]: t for t in TABLES}


@dataclass(frozen=True)
class DeclarationSourceSpec:
    """`declarations/` for the registry's loader: its landing declaration (folder, patterns,
    requirement, description: `contracts.sources.PACKAGE_SOURCES["declarations"]`), its tables and
    what is never loaded."""

    source: PackageSource
    tables: tuple[Table, ...] = TABLES
    # Never loaded: the PDF (base 64) is replaced by its name, size and hash; the mail is dropped.
    never_loaded: tuple[str, ...] = ("rattachement/justificatif", "teledeclarant/mail_utilisateur")
    raw_in_quarantine: bool = False  # a rejected line still holds the mail and the PDF
    reasons_table: str = "controles_declaration"

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def folder(self) -> str:
        return self.source.folder

    @property
    def patterns(self) -> tuple[str, ...]:
        return self.source.patterns

    @property
    def optional(self) -> bool:
        # Optional: most millésimes come with no declaration; the tables then get empty partitions.
        return self.source.optional

    @property
    def description(self) -> str:
        return self.source.description


def _spec() -> DeclarationSourceSpec:
    # Imported here: contracts.sources imports the table helpers this module also uses.
    from coproff_platform.contracts.sources import PACKAGE_SOURCES

    return DeclarationSourceSpec(PACKAGE_SOURCES["declarations"])


SPEC = _spec()
