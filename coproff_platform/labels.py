"""The metadata labels the Dagster UI shows, chosen once: French, snake_case, ASCII.

Every asset, check and observation of the code location names its metadata entries with these
constants; the CLI summaries and the tests read them through the same names, and
`docs/dagster_ui.md` lists them. Dagster's own entries (`dagster/row_count`, `dagster/table_name`,
`dagster/column_schema`) keep their names: the UI gives them a special place.

Check evaluations are plotted by the UI over time, every partition together: their numeric entries
are therefore labelled with the judged millésime (`du_millesime`), so that one plot never mixes
millésimes. Materializations are plotted per partition, their labels stay plain.
"""

from __future__ import annotations

# -- loading a source (staging) ----------------------------------------------------------------
TABLE = "table"
DOSSIER_DEPOT = "dossier_depot"
EXIGENCE = "exigence"
SOURCE = "source"
LIGNES_LUES = "lignes_lues"
LIGNES_CHARGEES = "lignes_chargees"
LIGNES_EN_QUARANTAINE = "lignes_en_quarantaine"
LIGNES_ACCEPTEES = "lignes_acceptees"
LIGNES_REJETEES = "lignes_rejetees"
RECONCILIE = "reconcilie"
SOURCE_PRESENTE = "source_presente"
NOTE = "note"
LIGNES_ENCODAGE_DE_SECOURS = "lignes_encodage_de_secours"
FICHIERS = "fichiers"
MOTIFS_QUARANTAINE = "motifs_quarantaine"
CONTROLES_SOUPLES = "controles_souples"
CONTROLES_ECHOUES = "controles_echoues"
REPONSES_PAR_SERVICE = "reponses_par_service"
COLONNES_INCONNUES = "colonnes_inconnues"
COLONNES_OPTIONNELLES_ABSENTES = "colonnes_optionnelles_absentes"
COLONNES_PERSONNELLES_NON_CHARGEES = "colonnes_personnelles_non_chargees"
APERCU = "apercu"
DUREE_S = "duree_s"
LIGNES_PAR_S = "lignes_par_s"
DECLARATIONS_CONTROLEES_PAR_S = "declarations_controlees_par_s"
MILLESIME = "millesime"

# -- SQL models and their audits ---------------------------------------------------------------
FICHIER_SQL = "fichier_sql"
SQL = "sql"
COLONNES_NON_DOCUMENTEES = "colonnes_non_documentees"
CHANGEMENTS_DE_SCHEMA = "changements_de_schema"
LIGNES_EN_FAUTE = "lignes_en_faute"
FICHIER = "fichier"
ERREUR = "erreur"
ECHANTILLON = "echantillon"
SEUILS = "seuils"
VERSION_JUGEE = "version_jugee"
VERSION_PUBLIEE = "version_publiee"
# model-specific tables and plots (checks/metadata_hooks.py, registre/metadata_hooks.py)
CLASSES = "classes"
TAUX_COHERENCE = "taux_coherence"
SITUATIONS = "situations"
TAUX = "taux"
EVOLUTION = "evolution"
FAMILLES = "familles"
SIGNAUX = "signaux"
GRAPHIQUE = "graphique"
GRAPHIQUE_SIGNAUX = "graphique_signaux"

# -- Great Expectations suites on staging ------------------------------------------------------
ATTENTES = "attentes"
ATTENTES_EN_ECHEC = "attentes_en_echec"
ECHECS = "echecs"

# -- reference tables --------------------------------------------------------------------------
FICHIER_CSV = "fichier_csv"
CONTENU = "contenu"
EMPREINTE_SHA256 = "empreinte_sha256"

# -- publication and the version kept after a failure ------------------------------------------
LIGNES_PAR_TABLE = "lignes_par_table"
VUES_PUBLIEES = "vues_publiees"
VUES_RECREEES = "vues_creees_ou_recreees"
ORIGINE_PARCELLES = "origine_parcelles"
RELATIONS_SANS_COMMENTAIRE = "relations_sans_commentaire"
NOMBRE = "nombre"
TOUJOURS_PUBLIE = "toujours_publie"
PUBLIE_DEPUIS = "publie_depuis"
EXECUTION_DE_PUBLICATION = "execution_de_publication"
EXECUTION_EN_ECHEC = "execution_en_echec"
LIGNES_PUBLIEES = "lignes_publiees"
CAUSE = "cause"

# -- exports -----------------------------------------------------------------------------------
RELATION_PUBLIEE = "relation_publiee"
CHEMIN = "chemin"
LIGNES_PAR_FICHIER = "lignes_par_fichier"
TAILLE_OCTETS = "taille_octets"
DICTIONNAIRE = "dictionnaire"

# -- evaluation against the sample's ground truth ----------------------------------------------
PRECISION_APPARIEMENT = "precision_appariement"
RAPPEL_APPARIEMENT = "rappel_appariement"
EXACTITUDE_APPARIEMENT = "exactitude_appariement"
PRECISION_DOUBLONS = "precision_doublons"
RAPPEL_DOUBLONS = "rappel_doublons"
IMMATRICULATIONS_VERITE = "immatriculations_verite"
IMMATRICULATIONS_APPARIEES = "immatriculations_appariees"
PAIRES_VERITE = "paires_verite"
PAIRES_SIGNALEES = "paires_signalees"
PRINCIPAL_SECONDAIRE_SIGNALES = "principal_secondaire_signales"
DOUBLONS_PAR_TYPE = "doublons_par_type"
APPARIEMENT_PAR_MOTIF = "appariement_par_motif"
APPARIEMENT_PAR_CAS_PLANTE = "appariement_par_cas_plante"
RESUME = "resume"

ALL: frozenset[str] = frozenset(v for k, v in dict(globals()).items() if k.isupper() and isinstance(v, str))


def du_millesime(label: str, millesime: int | str) -> str:
    """`lignes_en_faute` → `lignes_en_faute_2023`: a check's numeric entry, plotted per millésime."""
    return f"{label}_{int(millesime)}"


def is_known(label: str) -> bool:
    """A label of this vocabulary, a Dagster entry, a model hook's error, or one labelled per millésime."""
    if label in ALL or label.startswith("dagster/"):
        return True
    if label.startswith("erreur_"):
        return True
    base, _, year = label.rpartition("_")
    return year.isdigit() and len(year) == 4 and base in ALL
