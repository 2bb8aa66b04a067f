"""Exact headers and CSV dialects of the landing files the generator writes (docs/landing_formats.md)."""

from __future__ import annotations

from coproff_platform.contracts import sources as _contract

# RNIC current open-data schema, 72 columns in publication order, and the French
# labels of the older release: read from the source contract so the loader and the generator agree.
RNIC_COLUMNS: tuple[str, ...] = _contract.RNIC_COLUMNS_72
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

# Older releases: human-readable French labels (dates written dd/mm/YYYY).
RNIC_LABELS: dict[str, str] = {c: _contract.RNIC_LABELS[c] for c in RNIC_COLUMNS}

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
