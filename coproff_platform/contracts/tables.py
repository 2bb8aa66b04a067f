"""Staging tables: the typed, normalised form of each source, one partition per millésime.

This is the interface between the loaders (which fill these tables) and the SQL models (which read
them). Column comments are in French: they are published with `COMMENT ON COLUMN`.
Geometries: FF geometries keep their local projection (the SRID of the département's territory,
`srid_local` of `dbt_like_sql/reference/territoires.csv`) next to a 4326 copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

# The one SQL-literal helper of the code base (COMMENT ON takes no bound parameters), re-exported.
from coproff_platform.sqltext import literal  # noqa: F401


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    comment: str


@dataclass(frozen=True)
class Table:
    qualified: str
    comment: str
    columns: tuple[Col, ...]
    primary_key: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()  # column names; geometry columns get GiST

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


M = Col("millesime", "smallint not null", "Millésime CoproFF (année N : RNIC de septembre N × Fichiers fonciers N)")
ORIGIN = (
    Col("source_file", "text not null", "Fichier source (relatif à la zone de dépôt)"),
    Col("source_line", "integer not null", "Numéro de ligne dans le fichier source (en-tête = 1)"),
)

RNIC = Table(
    "staging.rnic",
    "Registre national d'immatriculation des copropriétés (ANAH), typé et normalisé",
    (
        M,
        Col("num_immat", "char(9) not null", "Numéro d'immatriculation (2 lettres + 7 chiffres)"),
        Col("epci", "text", "Code SIREN de l'EPCI"),
        Col("code_commune", "char(5)", "Code INSEE de la commune (commune entière pour Paris, Lyon, Marseille)"),
        Col("date_immat", "date", "Date d'immatriculation"),
        Col("date_maj", "date", "Date de la dernière mise à jour"),
        Col("type_syndic", "text", "Type de syndic : professionnel, bénévole (NULL si non connu)"),
        Col("syndic_raison_sociale", "text", "Raison sociale du représentant légal (syndic professionnel uniquement)"),
        Col("syndic_siret", "char(14)", "SIRET du représentant légal"),
        Col("syndic_code_ape", "text", "Code APE du représentant légal"),
        Col("mandat", "text", "Statut du mandat du syndic"),
        Col("date_fin_mandat", "date", "Date de fin du dernier mandat"),
        Col("nom_copro", "text", "Nom d'usage de la copropriété"),
        Col("adresse", "text", "Adresse de référence complète"),
        Col("numero_voie", "text", "Numéro et voie de l'adresse de référence"),
        Col("code_postal", "char(5)", "Code postal de l'adresse de référence"),
        Col("commune_adresse", "text", "Commune de l'adresse de référence"),
        Col("nb_adresses_compl", "integer", "Nombre d'adresses complémentaires déclaré"),
        Col("date_reglement", "date", "Date du règlement de copropriété"),
        Col("residence_service", "boolean", "Résidence service"),
        Col("syndicat_cooperatif", "boolean", "Syndicat coopératif"),
        Col("syndicat_principal", "boolean", "Syndicat principal (vrai) ou secondaire (faux)"),
        Col("num_immat_principal", "char(9)", "Si secondaire : numéro d'immatriculation du principal"),
        Col("lots_total", "integer", "Nombre total de lots"),
        Col("lots_hab_bur_com", "integer", "Nombre de lots à usage d'habitation, de bureaux ou de commerces"),
        Col("lots_hab", "integer", "Nombre de lots à usage d'habitation"),
        Col("lots_stationnement", "integer", "Nombre de lots de stationnement"),
        Col("p_constr", "text", "Période de construction (AVANT_1949 … A_COMPTER_DE_2011 ; NULL si non connue)"),
        Col("idpar_1", "char(14)", "Référence cadastrale 1 normalisée au format idpar des Fichiers fonciers"),
        Col("idpar_2", "char(14)", "Référence cadastrale 2 normalisée (idpar)"),
        Col("idpar_3", "char(14)", "Référence cadastrale 3 normalisée (idpar)"),
        Col("l_idpar", "text[]", "Références cadastrales renseignées, normalisées (idpar), sans doublon"),
        Col("nb_parcelles", "integer", "Nombre de parcelles cadastrales déclaré"),
        Col("code_qp_2015", "text", "Code du quartier prioritaire 2015"),
        Col("code_qp_2024", "text", "Code du quartier prioritaire 2024"),
        Col("copro_dans_acv", "boolean", "Copropriété dans le programme Action cœur de ville"),
        Col("copro_dans_pvd", "boolean", "Copropriété dans le programme Petites villes de demain"),
        Col("copro_dans_pdp", "boolean", "Copropriété dans un plan de sauvegarde ou programme de prévention"),
        Col("copro_aidee", "boolean", "Copropriété aidée"),
        Col("code_officiel_commune", "char(5)", "Code officiel de la commune"),
        Col("code_arrondissement", "char(5)", "Code officiel de l'arrondissement municipal (Paris, Lyon, Marseille) ou de la commune"),
        Col("code_departement", "text", "Code du département (2 ou 3 caractères)"),
        Col("code_region", "text", "Code de la région"),
        Col("geom", "geometry(Point, 4326)", "Point géocodé du registre (WGS84)"),
        Col("controles", "text[] not null default '{}'", "Contrôles du registre non bloquants en échec (codes)"),
        *ORIGIN,
    ),
    primary_key=("millesime", "num_immat"),
    indexes=("geom", "code_commune"),
)

FF_PARCELLE = Table(
    "staging.ff_parcelle",
    "Parcelles des Fichiers fonciers (pnb10_parcelle)",
    (
        M,
        Col("idpar", "char(14) not null", "Identifiant de parcelle (ccodep+ccocom+ccopre+ccosec+dnupla)"),
        Col("idtup", "text", "Identifiant de la TUP contenant la parcelle"),
        Col("idcom", "char(5) not null", "Code INSEE de la commune (arrondissement pour Paris, Lyon, Marseille)"),
        Col("ccodep", "text not null", "Code du département"),
        Col("dcntpa", "integer", "Contenance cadastrale (m²)"),
        Col("jannatmin", "integer", "Année de construction du plus ancien local"),
        Col("nlocal", "integer", "Nombre de locaux"),
        Col("nlogh", "integer", "Nombre de logements"),
        Col("ctpdl", "text", "Type de propriété divisée en lots (BND, CL, CV, TF, CLV, MP)"),
        Col("srid", "integer not null", "Projection locale des géométries (srid_local du territoire, référentiel territoires)"),
        Col("geompar", "geometry(MultiPolygon)", "Contour de la parcelle, projection locale"),
        Col("geompar_4326", "geometry(MultiPolygon, 4326)", "Contour de la parcelle (WGS84)"),
        Col("anomalies", "text[] not null default '{}'", "Réparations appliquées à la ligne (codes de motif, ex. geometrie_reparee)"),
        *ORIGIN,
    ),
    primary_key=("millesime", "idpar"),
    indexes=("idtup", "geompar_4326"),
)

CADASTRE_PARCELLE = Table(
    "staging.cadastre_parcelle",
    "Parcelles du cadastre ouvert (Etalab, GeoJSON WGS84), quand le millésime n'a pas de Fichiers fonciers",
    (
        M,
        Col("idpar", "char(14) not null", "Identifiant de parcelle (propriété `id` d'Etalab : commune+préfixe+section+numéro)"),
        Col("code_commune", "char(5)", "Code INSEE de la commune (arrondissement pour Paris, Lyon, Marseille)"),
        Col("prefixe", "char(3)", "Préfixe de section (000 hors communes associées)"),
        Col("section", "char(2)", "Section cadastrale, complétée à gauche par 0"),
        Col("numero", "char(4)", "Numéro de parcelle, complété à gauche par 0"),
        Col("contenance", "integer", "Contenance cadastrale (m²)"),
        Col("date_creation", "date", "Date de création de la parcelle (propriété `created`)"),
        Col("date_maj", "date", "Date de dernière mise à jour (propriété `updated`)"),
        Col("geom", "geometry(MultiPolygon, 4326)", "Contour de la parcelle (WGS84)"),
        Col("anomalies", "text[] not null default '{}'", "Réparations et signalements appliqués à la ligne (codes de motif)"),
        Col("source_file", "text not null", "Fichier source (relatif à la zone de dépôt)"),
        Col("source_line", "integer not null", "Numéro de l'objet (feature) dans le fichier, à partir de 1"),
    ),
    primary_key=("millesime", "idpar"),
    indexes=("code_commune", "geom"),
)

FF_TUP = Table(
    "staging.ff_tup",
    "Unités foncières unifiées (TUP) des Fichiers fonciers",
    (
        M,
        Col("idtup", "text not null", "Identifiant de la TUP"),
        Col("typetup", "text not null", "Type de TUP : SIMPLE, UF (unité foncière), PDLMP (PDL multi-parcellaire)"),
        Col("idcom", "char(5) not null", "Code INSEE de la commune (arrondissement pour Paris, Lyon, Marseille)"),
        Col("ccodep", "text not null", "Code du département"),
        Col("l_idpar", "text[] not null", "Parcelles composant la TUP (idpar)"),
        Col("nparcel", "integer not null", "Nombre de parcelles de la TUP"),
        Col("dcntpa", "integer", "Contenance cadastrale totale (m²)"),
        Col("ctpdl", "text", "Type de propriété divisée en lots portée par la TUP (NULL si aucune)"),
        Col("nlocal", "integer", "Nombre de locaux"),
        Col("nlogh", "integer", "Nombre de logements"),
        Col("nloghcopro", "integer", "Nombre de logements en copropriété (locaux d'habitation de la PDL)"),
        Col("jannatmin", "integer", "Année de construction du plus ancien local"),
        Col("srid", "integer not null", "Projection locale des géométries"),
        Col("geomtup", "geometry(MultiPolygon)", "Contour de la TUP, projection locale"),
        Col("geompoint", "geometry(Point)", "Point de la TUP, projection locale"),
        Col("geomtup_4326", "geometry(MultiPolygon, 4326)", "Contour de la TUP (WGS84)"),
        Col("geompoint_4326", "geometry(Point, 4326)", "Point de la TUP (WGS84)"),
        Col("anomalies", "text[] not null default '{}'", "Réparations appliquées à la ligne (codes de motif, ex. geometrie_reparee)"),
        *ORIGIN,
    ),
    primary_key=("millesime", "idtup"),
    indexes=("geomtup_4326", "geompoint_4326", "idcom"),
)

DPE = Table(
    "staging.dpe",
    "Diagnostics de performance énergétique des logements existants (ADEME)",
    (
        M,
        Col("numero_dpe", "text not null", "Numéro du DPE"),
        Col("date_etablissement_dpe", "date", "Date d'établissement du DPE"),
        Col("etiquette_dpe", "char(1)", "Étiquette énergie (A à G)"),
        Col("etiquette_ges", "char(1)", "Étiquette climat (A à G)"),
        Col("type_batiment", "text", "Type de bâtiment : appartement, maison, immeuble"),
        Col("methode_application_dpe", "text", "Méthode d'application du DPE"),
        Col("annee_construction", "integer", "Année de construction"),
        Col("periode_construction", "text", "Période de construction"),
        Col("surface_habitable_logement", "numeric", "Surface habitable du logement (m²)"),
        Col("num_immat", "char(9)", "Numéro d'immatriculation de la copropriété déclaré dans le DPE"),
        Col("identifiant_ban", "text", "Identifiant BAN de l'adresse"),
        Col("adresse_ban", "text", "Adresse BAN"),
        Col("code_insee_ban", "char(5)", "Code INSEE de la commune (BAN)"),
        Col("code_postal_ban", "char(5)", "Code postal (BAN)"),
        Col("geom", "geometry(Point, 4326)", "Point de l'adresse BAN (WGS84)"),
        *ORIGIN,
    ),
    primary_key=("millesime", "numero_dpe"),
    indexes=("geom", "num_immat"),
)

DVF = Table(
    "staging.dvf",
    "Demandes de valeurs foncières géolocalisées (une ligne par disposition × parcelle × local)",
    (
        M,
        Col("id_mutation", "text not null", "Identifiant de la mutation"),
        Col("date_mutation", "date not null", "Date de la mutation"),
        Col("numero_disposition", "text", "Numéro de disposition"),
        Col("nature_mutation", "text", "Nature de la mutation (Vente, Vente en l'état futur d'achèvement, ...)"),
        Col("valeur_fonciere", "numeric", "Valeur foncière de la mutation (répétée sur chaque ligne)"),
        Col("code_commune", "char(5)", "Code INSEE de la commune"),
        Col("id_parcelle", "char(14)", "Identifiant de parcelle (idpar)"),
        Col("code_type_local", "integer", "Code du type de local (2 = appartement)"),
        Col("type_local", "text", "Type de local"),
        Col("surface_reelle_bati", "numeric", "Surface réelle bâtie (m²)"),
        Col("surface_carrez", "numeric", "Somme des surfaces Carrez des lots (m²)"),
        Col("nombre_lots", "integer", "Nombre de lots"),
        Col("nombre_pieces_principales", "integer", "Nombre de pièces principales"),
        Col("geom", "geometry(Point, 4326)", "Point de la parcelle (WGS84)"),
        Col("line_hash", "text not null", "Empreinte de la ligne brute : les lignes strictement identiques partagent la même"),
        *ORIGIN,
    ),
    primary_key=("millesime", "source_file", "source_line"),
    indexes=("id_parcelle", "id_mutation"),
)

DV3F = Table(
    "staging.dv3f",
    "Demandes de valeurs foncières enrichies (DV3F, Cerema, accès restreint) : une ligne par mutation",
    (
        M,
        Col("idmutation", "text not null", "Identifiant de la mutation (DV3F)"),
        Col("datemut", "date not null", "Date de la mutation"),
        Col("anneemut", "integer", "Année de la mutation"),
        Col("valeurfonc", "numeric", "Valeur foncière de la mutation (euros)"),
        Col("l_idpar", "text[] not null", "Parcelles de la mutation, au format idpar des Fichiers fonciers"),
        Col("l_idlocmut", "text[]", "Locaux mutés (identifiants idlocal des Fichiers fonciers)"),
        Col("nblocapt", "integer", "Nombre d'appartements mutés"),
        Col("sbatapt", "numeric", "Surface bâtie des appartements mutés (m²)"),
        Col("codtypbien", "text", "Code de la typologie de bien (12… = appartements)"),
        Col("libtypbien", "text", "Libellé de la typologie de bien"),
        Col("vefa", "boolean", "Vente en l'état futur d'achèvement"),
        *ORIGIN,
    ),
    primary_key=("millesime", "idmutation"),
    indexes=("anneemut",),
)

LOVAC = Table(
    "staging.lovac",
    "Logements vacants du parc privé (LOVAC), sans données personnelles",
    (
        M,
        Col("ff_idlocal", "text not null", "Identifiant du local (Fichiers fonciers)"),
        Col("ff_idpar", "char(14)", "Identifiant de la parcelle"),
        Col("invariant", "text", "Invariant du local"),
        Col("ff_ctpdl", "text", "Type de propriété divisée en lots"),
        Col("debutvacance", "integer", "Année de début de la vacance"),
        Col("ff_ccthp", "text", "Occupation du local (V = vacant)"),
        Col("ff_jannath", "integer", "Année de construction"),
        Col("ff_stoth", "numeric", "Surface habitable (m²)"),
        Col("geom", "geometry(Point, 4326)", "Point du local (WGS84)"),
        *ORIGIN,
    ),
    primary_key=("millesime", "ff_idlocal"),
    indexes=("ff_idpar", "geom"),
)

QUARANTINE = Table(
    "quality.quarantine",
    "Lignes sources rejetées, avec leur motif : lues = chargées + en quarantaine",
    (
        M,
        Col("source", "text not null", "Source : rnic, ff_parcelle, ff_tup, cadastre_parcelle, dpe, dvf, dv3f, lovac"),
        Col("source_file", "text not null", "Fichier source"),
        Col("source_line", "integer not null", "Numéro de ligne dans le fichier (en-tête = 1)"),
        Col("reason", "text not null", "Code du motif de rejet"),
        Col("field", "text", "Champ en cause"),
        Col("detail", "text", "Explication lisible"),
        Col("raw", "text", "Contenu brut de la ligne"),
    ),
    indexes=("source",),
)

LOAD_LOG = Table(
    "quality.load_log",
    "Journal des chargements : lignes lues, chargées et mises en quarantaine, par fichier",
    (
        M,
        Col("source", "text not null", "Source : rnic, ff_parcelle, ff_tup, cadastre_parcelle, dpe, dvf, dv3f, lovac"),
        Col("source_file", "text not null", "Fichier source"),
        Col("encoding", "text", "Encodage lu"),
        Col("lines_fallback", "integer not null default 0", "Lignes décodées en Windows-1252/Latin-1 faute d'être en UTF-8 valide"),
        Col("rows_read", "integer not null", "Lignes de données lues (hors en-tête et lignes vides)"),
        Col("rows_loaded", "integer not null", "Lignes chargées dans la table de staging"),
        Col("rows_quarantined", "integer not null", "Lignes mises en quarantaine"),
        Col("loaded_at", "timestamptz not null default now()", "Date du chargement"),
    ),
    indexes=("source",),
)

STAGING_TABLES: dict[str, Table] = {
    t.qualified.split(".")[1]: t for t in (RNIC, FF_PARCELLE, FF_TUP, CADASTRE_PARCELLE, DPE, DVF, DV3F, LOVAC)
}
ALL_TABLES: tuple[Table, ...] = (*STAGING_TABLES.values(), QUARANTINE, LOAD_LOG)


def create_table(conn: Connection, table: Table) -> None:
    """Creates the partitioned parent table, its indexes and comments, if it does not exist."""
    exists = conn.execute(sa.text("select to_regclass(:t)"), {"t": table.qualified}).scalar()
    if exists:
        # A database created by an earlier release gains the columns added since (nullable or
        # defaulted ones only): `add column` on the parent reaches every partition.
        # Only missing columns are altered: a no-op ALTER would still queue behind open readers.
        schema, name = table.qualified.split(".")
        present = set(conn.execute(sa.text(
            "select column_name from information_schema.columns where table_schema = :s and table_name = :t"
        ), {"s": schema, "t": name}).scalars())
        for c in table.columns:
            if c.name not in present:
                conn.execute(sa.text(f"alter table {table.qualified} add column {c.name} {c.type}"))
        return
    cols = [f"{c.name} {c.type}" for c in table.columns]
    if table.primary_key:
        cols.append(f"primary key ({', '.join(table.primary_key)})")
    conn.execute(sa.text(f"create table {table.qualified} ({', '.join(cols)}) partition by list (millesime)"))
    types = {c.name: c.type for c in table.columns}
    short = table.qualified.split(".")[1]
    for col in table.indexes:
        using = "gist" if types[col].startswith("geometry") else "btree"
        conn.execute(sa.text(f"create index {short}_{col}_idx on {table.qualified} using {using} ({col})"))
    conn.execute(sa.text(f"comment on table {table.qualified} is {literal(table.comment)}"))
    for c in table.columns:
        conn.execute(sa.text(f"comment on column {table.qualified}.{c.name} is {literal(c.comment)}"))




def create_all(conn: Connection) -> None:
    for table in ALL_TABLES:
        create_table(conn, table)
    # The registry declarations' staging tables (read by SQL models even when no declaration landed).
    from coproff_platform.contracts.declarations import TABLES as DECLARATION_TABLES
    for table in DECLARATION_TABLES:
        create_table(conn, table)


def ensure_partition(conn: Connection, qualified: str, millesime: int) -> None:
    """Creates the (empty) partition of `millesime` when missing, for tables filled in place."""
    name = f"{qualified}_m{int(millesime)}"
    conn.execute(sa.text(
        f"create table if not exists {name} partition of {qualified} for values in ({int(millesime)})"
    ))
