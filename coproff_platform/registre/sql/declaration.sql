-- staging.declaration: one row per accepted declaration, typed from its (already controlled) JSON.
-- Reads the load's temporary view `declaration_acceptee`; the PDF and the mail were removed before COPY.
with recues as (
    select * from declaration_acceptee
),
-- Block A and the rattachement, one typed column per field of the contract
typees as (
    select
        r.id_depot,
        r.num_immat,
        r.service,
        r.doc ->> 'type_mise_a_jour' as type_mise_a_jour,
        r.recu_le,
        (r.doc ->> 'date_transmission')::timestamptz as date_transmission,
        r.doc -> 'teledeclarant' ->> 'identifiant' as teledeclarant,
        a ->> 'nom_usage' as nom_usage,
        (a ->> 'date_mise_en_copropriete')::date as date_mise_en_copropriete,
        a ->> 'siret' as siret,
        a -> 'adresse_principale' ->> 'numero_voie' as numero_voie,
        a -> 'adresse_principale' ->> 'voie' as voie,
        a -> 'adresse_principale' ->> 'code_postal' as code_postal,
        a -> 'adresse_principale' ->> 'commune' as commune,
        a -> 'adresse_principale' ->> 'code_insee' as code_insee,
        (a -> 'adresse_principale' ->> 'longitude')::double precision as longitude,
        (a -> 'adresse_principale' ->> 'latitude')::double precision as latitude,
        coalesce(jsonb_array_length(a -> 'adresses_secondaires'), 0) as nb_adresses_secondaires,
        -- parcels were normalised to FF idpar (Paris/Lyon/Marseille arrondissements) by the loader
        r.l_idpar,
        (a ->> 'residence_service')::boolean as residence_service,
        (a ->> 'syndicat_cooperatif')::boolean as syndicat_cooperatif,
        (a ->> 'syndicat_principal')::boolean as syndicat_principal,
        r.num_immat_principal,
        (a ->> 'nombre_asl')::integer as nb_asl,
        (a ->> 'nombre_aful')::integer as nb_aful,
        (a ->> 'nombre_unions_syndicats')::integer as nb_unions_syndicats,
        (a ->> 'nombre_lots_total')::integer as lots_total,
        (a ->> 'nombre_lots_habitation_bureaux_commerces')::integer as lots_hab_bur_com,
        (a ->> 'nombre_lots_habitation')::integer as lots_hab,
        (a ->> 'nombre_lots_stationnement')::integer as lots_stationnement,
        (r.doc -> 'rattachement' ->> 'administration_provisoire')::boolean as administration_provisoire,
        r.doc -> 'rattachement' ->> 'type_justificatif' as type_justificatif,
        r.doc -> 'rattachement' ->> 'nom_fichier' as justificatif_nom,
        (r.doc -> 'rattachement' ->> 'justificatif_octets')::integer as justificatif_octets,
        r.doc -> 'rattachement' ->> 'justificatif_sha256' as justificatif_sha256,
        r.codes_alerte,
        r.source_file,
        r.source_line
    from recues r
    cross join lateral (select r.doc -> 'identification' as a) ident
)
select
    cast(:millesime as smallint) as millesime, id_depot, num_immat, service, type_mise_a_jour, recu_le,
    date_transmission, teledeclarant, nom_usage, date_mise_en_copropriete, siret, numero_voie, voie,
    code_postal, commune, code_insee, longitude, latitude, nb_adresses_secondaires, l_idpar,
    residence_service, syndicat_cooperatif, syndicat_principal, num_immat_principal, nb_asl, nb_aful,
    nb_unions_syndicats, lots_total, lots_hab_bur_com, lots_hab, lots_stationnement,
    administration_provisoire, type_justificatif, justificatif_nom, justificatif_octets,
    justificatif_sha256, codes_alerte, source_file, source_line
from typees
