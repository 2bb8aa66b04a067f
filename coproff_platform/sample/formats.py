"""Exact headers and CSV dialects of the landing files the generator writes (docs/landing_formats.md)."""

from __future__ import annotations

# RNIC current open-data schema, 72 columns in publication order (SOURCES.md §1).
RNIC_COLUMNS: tuple[str, ...] = (
    "epci", "commune", "numero_d_immatriculation", "date_d_immatriculation", "date_de_la_derniere_maj",
    "type_de_syndic_benevole_professionnel_non_connu",
    "identification_du_representant_legal_raison_sociale_et_le_numer",
    "raison_sociale_du_representant_legal", "siret_du_representant_legal", "code_ape",
    "commune_du_representant_legal", "mandat_en_cours_dans_la_copropriete",
    "date_de_fin_du_dernier_mandat", "nom_d_usage_de_la_copropriete", "adresse_de_reference",
    "numero_et_voie_adresse_de_reference", "code_postal_adresse_de_reference",
    "commune_adresse_de_reference", "adresse_complementaire_1", "adresse_complementaire_2",
    "adresse_complementaire_3", "nombre_d_adresses_complementaires", "long", "lat",
    "date_du_reglement_de_copropriete", "residence_service", "syndicat_cooperatif",
    "syndicat_principal_ou_syndicat_secondaire", "si_secondaire_n_d_immatriculation_du_principal",
    "nombre_d_asl_auxquelles_est_rattache_le_syndicat_de_coproprieta",
    "nombre_d_aful_auxquelles_est_rattache_le_syndicat_de_copropriet",
    "nombre_d_unions_de_syndicats_auxquelles_est_rattache_le_syndica", "nombre_total_de_lots",
    "nombre_total_de_lots_a_usage_d_habitation_de_bureaux_ou_de_comm",
    "nombre_de_lots_a_usage_d_habitation", "nombre_de_lots_de_stationnement",
    "periode_de_construction", "reference_cadastrale_1", "code_insee_commune_1", "prefixe_1", "section_1",
    "numero_parcelle_1", "reference_cadastrale_2", "code_insee_commune_2", "prefixe_2", "section_2",
    "numero_parcelle_2", "reference_cadastrale_3", "code_insee_commune_3", "prefixe_3", "section_3",
    "numero_parcelle_3", "nombre_de_parcelles_cadastrales", "nom_qp_2015", "code_qp_2015", "nom_qp_2024",
    "code_qp_2024", "copro_dans_acv", "copro_dans_pvd", "code_de_pdp", "copro_dans_pdp", "copro_aidee",
    "code_officiel_commune", "nom_officiel_commune", "code_officiel_arrondissement_commune",
    "nom_officiel_arrondissement_commune", "code_officiel_epci", "nom_officiel_epci",
    "code_officiel_departement", "nom_officiel_departement", "code_officiel_region",
    "nom_officiel_region",
)
assert len(RNIC_COLUMNS) == 72

# Columns the open file writes unquoted (numbers); every other value is double-quoted.
RNIC_NUMERIC: frozenset[str] = frozenset({
    "epci", "code_postal_adresse_de_reference", "nombre_d_adresses_complementaires", "long", "lat",
    "nombre_d_asl_auxquelles_est_rattache_le_syndicat_de_coproprieta",
    "nombre_d_aful_auxquelles_est_rattache_le_syndicat_de_copropriet",
    "nombre_d_unions_de_syndicats_auxquelles_est_rattache_le_syndica", "nombre_total_de_lots",
    "nombre_total_de_lots_a_usage_d_habitation_de_bureaux_ou_de_comm",
    "nombre_de_lots_a_usage_d_habitation", "nombre_de_lots_de_stationnement",
    "nombre_de_parcelles_cadastrales", "copro_dans_pdp", "code_officiel_epci",
})
RNIC_DATES: frozenset[str] = frozenset({
    "date_d_immatriculation", "date_de_la_derniere_maj", "date_de_fin_du_dernier_mandat",
    "date_du_reglement_de_copropriete",
})

# Older releases: human-readable French labels (dates written dd/mm/YYYY). The snake_case names of
# the current schema are these labels slugified and cut at 63 characters.
RNIC_LABELS: dict[str, str] = {
    "epci": "EPCI",
    "commune": "Commune",
    "numero_d_immatriculation": "Numéro d'immatriculation",
    "date_d_immatriculation": "Date d'immatriculation",
    "date_de_la_derniere_maj": "Date de la dernière MAJ",
    "type_de_syndic_benevole_professionnel_non_connu": "Type de syndic : bénévole / professionnel / non connu",
    "identification_du_representant_legal_raison_sociale_et_le_numer":
        "Identification du représentant légal (raison sociale et le numéro SIRET du syndic professionnel ou Civilité/prénom/ nom du syndic bénévole ou coopératif)",
    "raison_sociale_du_representant_legal": "Raison sociale du représentant légal",
    "siret_du_representant_legal": "Siret du représentant légal",
    "code_ape": "Code APE",
    "commune_du_representant_legal": "Commune du représentant légal",
    "mandat_en_cours_dans_la_copropriete": "Mandat en cours dans la copropriété",
    "date_de_fin_du_dernier_mandat": "Date de fin du dernier mandat",
    "nom_d_usage_de_la_copropriete": "Nom d’usage de la copropriété",
    "adresse_de_reference": "Adresse de référence",
    "numero_et_voie_adresse_de_reference": "Numéro et Voie (adresse de référence)",
    "code_postal_adresse_de_reference": "Code postal (adresse de référence)",
    "commune_adresse_de_reference": "Commune (adresse de référence)",
    "adresse_complementaire_1": "Adresse complémentaire 1",
    "adresse_complementaire_2": "Adresse complémentaire 2",
    "adresse_complementaire_3": "Adresse complémentaire 3",
    "nombre_d_adresses_complementaires": "Nombre d'adresses complémentaires",
    "long": "long",
    "lat": "lat",
    "date_du_reglement_de_copropriete": "Date du règlement de copropriété",
    "residence_service": "Résidence service",
    "syndicat_cooperatif": "Syndicat coopératif",
    "syndicat_principal_ou_syndicat_secondaire": "Syndicat principal ou syndicat secondaire",
    "si_secondaire_n_d_immatriculation_du_principal": "Si secondaire, n° d’immatriculation du principal",
    "nombre_d_asl_auxquelles_est_rattache_le_syndicat_de_coproprieta":
        "Nombre d’ASL auxquelles est rattaché le syndicat de copropriétaires",
    "nombre_d_aful_auxquelles_est_rattache_le_syndicat_de_copropriet":
        "Nombre d’AFUL auxquelles est rattaché le syndicat de copropriétaires",
    "nombre_d_unions_de_syndicats_auxquelles_est_rattache_le_syndica":
        "Nombre d’Unions de syndicats auxquelles est rattaché le syndicat de copropriétaires",
    "nombre_total_de_lots": "Nombre total de lots",
    "nombre_total_de_lots_a_usage_d_habitation_de_bureaux_ou_de_comm":
        "Nombre total de lots à usage d’habitation, de bureaux ou de commerces",
    "nombre_de_lots_a_usage_d_habitation": "Nombre de lots à usage d’habitation",
    "nombre_de_lots_de_stationnement": "Nombre de lots de stationnement",
    "periode_de_construction": "Période de construction",
    "nombre_de_parcelles_cadastrales": "Nombre de parcelles cadastrales",
    "nom_qp_2015": "Nom QP 2015", "code_qp_2015": "Code QP 2015",
    "nom_qp_2024": "Nom QP 2024", "code_qp_2024": "Code QP 2024",
    "copro_dans_acv": "Copro dans ACV", "copro_dans_pvd": "Copro dans PVD",
    "code_de_pdp": "Code de PDP", "copro_dans_pdp": "Copro dans PDP", "copro_aidee": "Copro aidée",
    "code_officiel_commune": "Code Officiel Commune", "nom_officiel_commune": "Nom Officiel Commune",
    "code_officiel_arrondissement_commune": "Code Officiel Arrondissement Commune",
    "nom_officiel_arrondissement_commune": "Nom Officiel Arrondissement Commune",
    "code_officiel_epci": "Code Officiel EPCI", "nom_officiel_epci": "Nom Officiel EPCI",
    "code_officiel_departement": "Code Officiel Département", "nom_officiel_departement": "Nom Officiel Département",
    "code_officiel_region": "Code Officiel Région", "nom_officiel_region": "Nom Officiel Région",
}
for _n in (1, 2, 3):
    RNIC_LABELS[f"reference_cadastrale_{_n}"] = f"Référence cadastrale {_n}"
    RNIC_LABELS[f"code_insee_commune_{_n}"] = f"Code INSEE commune {_n}"
    RNIC_LABELS[f"prefixe_{_n}"] = f"Préfixe {_n}"
    RNIC_LABELS[f"section_{_n}"] = f"Section {_n}"
    RNIC_LABELS[f"numero_parcelle_{_n}"] = f"Numéro parcelle {_n}"
assert set(RNIC_LABELS) == set(RNIC_COLUMNS)

FF_PARCELLE_COLUMNS = (
    "idpar", "idtup", "idcom", "ccodep", "ccocom", "ccopre", "ccosec", "dnupla", "dcntpa", "jannatmin",
    "nlocal", "nlogh", "ctpdl", "geompar",
)
FF_TUP_COLUMNS = (
    "idtup", "typetup", "idcom", "ccodep", "l_idpar", "nparcel", "dcntpa", "ctpdl", "nlocal", "nlogh",
    "nloghcopro", "jannatmin", "geomtup", "geompoint",
)

# ADEME dpe03existant: a subset of the 225 columns, in the published order, with every contract column.
DPE_COLUMNS = (
    "numero_dpe", "date_derniere_modification_dpe", "date_visite_diagnostiqueur", "date_etablissement_dpe",
    "date_reception_dpe", "date_fin_validite_dpe", "numero_dpe_remplace", "numero_dpe_immeuble_associe",
    "numero_immatriculation_copropriete", "modele_dpe", "version_dpe", "methode_application_dpe",
    "etiquette_dpe", "etiquette_ges", "type_batiment", "annee_construction", "periode_construction",
    "nombre_appartement", "nombre_niveau_immeuble", "surface_habitable_immeuble", "surface_habitable_logement",
    "zone_climatique", "adresse_ban", "numero_voie_ban", "nom_rue_ban", "nom_commune_ban", "code_postal_ban",
    "code_insee_ban", "code_departement_ban", "code_region_ban", "identifiant_ban",
    "coordonnee_cartographique_x_ban", "coordonnee_cartographique_y_ban", "score_ban", "statut_geocodage",
    "adresse_brut", "nom_commune_brut", "code_postal_brut", "numero_etage_appartement",
    "conso_5_usages_par_m2_ep", "emission_ges_5_usages par_m2",
)

# Etalab DVF géolocalisées, exact 40-column header.
DVF_COLUMNS = (
    "id_mutation", "date_mutation", "numero_disposition", "nature_mutation", "valeur_fonciere",
    "adresse_numero", "adresse_suffixe", "adresse_nom_voie", "adresse_code_voie", "code_postal",
    "code_commune", "nom_commune", "code_departement", "ancien_code_commune", "ancien_nom_commune",
    "id_parcelle", "ancien_id_parcelle", "numero_volume", "lot1_numero", "lot1_surface_carrez",
    "lot2_numero", "lot2_surface_carrez", "lot3_numero", "lot3_surface_carrez", "lot4_numero",
    "lot4_surface_carrez", "lot5_numero", "lot5_surface_carrez", "nombre_lots", "code_type_local",
    "type_local", "surface_reelle_bati", "nombre_pieces_principales", "code_nature_culture",
    "nature_culture", "code_nature_culture_speciale", "nature_culture_speciale", "surface_terrain",
    "longitude", "latitude",
)
assert len(DVF_COLUMNS) == 40

# LOVAC lovac_fil extract without any owner column.
LOVAC_COLUMNS = (
    "ff_idlocal", "ff_idpar", "invariant", "ff_ctpdl", "debutvacance", "ff_ccthp", "ff_jannath", "ff_stoth",
    "ff_x", "ff_y", "ff_dteloc", "ff_npiece_p2", "annee_lovac",
)


def q(value: str) -> str:
    """Double-quote a CSV string value (RNIC style: every string quoted)."""
    if '"' in value:
        value = value.replace('"', '""')
    return f'"{value}"'


def csv_line(values: list[str]) -> str:
    """One CSV line with minimal quoting; the fast path covers the generator's usual values."""
    line = ",".join(values)
    if line.count(",") != len(values) - 1 or '"' in line or "\n" in line:
        line = ",".join(csv_field(v) for v in values)
    return line + "\n"


def csv_field(value: str) -> str:
    """Minimal quoting (FF, DPE, DVF exports): quote only when needed."""
    if any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value
