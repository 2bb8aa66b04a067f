-- intermediate.coproff_base: the CoproFF referential before duplicate flags, one row per
-- copropriété (registered, or found in FF only) and millésime. coproff.doublons reads it, and
-- coproff.coproff adds the `doublon_suspect` flag on top (this split avoids a cycle).
-- This is the one place where the population is built: intermediate.synthese,
-- intermediate.tup_referentiel and the duplicate keys read it.
--
-- Rules (CoproFF, docs/rules.md "Population du référentiel"):
--   idcopro   = 'RNC_' + registration number when registered, 'FF_' + idtup otherwise;
--   situation = rnic_1_1 (registered, alone on its TUP), rnic_1_n (registered, its TUP holds
--               several registrations), rnic_unmatched (registered, no TUP), ff_only (a TUP holding
--               an FF copropriété — divided property with at least two dwellings — that no
--               registration matched);
--   geometry  = the RNIC point when registered and geocoded, else the TUP point (reprojected to
--               WGS84 from the local projection in intermediate.tup).
-- Personal data: the syndic's name is published only for professional syndics (a volunteer
-- syndic is a natural person).

with

rnic as (
    select *
    from staging.rnic
    where millesime = :millesime
),

tup_match as (
    select num_immat, idtup, methode, motif, distance_m
    from intermediate.tup_match
    where millesime = :millesime
),

tup as (
    select *
    from intermediate.tup
    where millesime = :millesime
),

-- number of registrations matched to each TUP
registrations_per_tup as (
    select idtup, count(*)::integer as copro_tup
    from tup_match
    where idtup is not null
    group by idtup
),

registered as (
    select
        'RNC_' || rnic.num_immat as idcopro,
        case
            when tup_match.idtup is null then 'rnic_unmatched'
            when registrations_per_tup.copro_tup > 1 then 'rnic_1_n'
            else 'rnic_1_1'
        end as situation,
        registrations_per_tup.copro_tup,
        rnic.num_immat,
        rnic.nom_copro,
        rnic.adresse,
        rnic.numero_voie,
        rnic.code_postal,
        rnic.commune_adresse,
        coalesce(tup.idcom, rnic.code_arrondissement, rnic.code_commune) as code_commune,
        coalesce(rnic.code_departement, tup.code_departement) as code_departement,
        rnic.epci,
        rnic.lots_total,
        rnic.lots_hab_bur_com,
        rnic.lots_hab,
        rnic.lots_stationnement,
        rnic.p_constr,
        rnic.type_syndic,
        -- a volunteer syndic is a natural person: never published
        case when rnic.type_syndic = 'professionnel' then rnic.syndic_raison_sociale end as syndic_raison_sociale,
        rnic.mandat,
        rnic.date_fin_mandat,
        rnic.date_immat,
        rnic.date_maj,
        rnic.date_reglement,
        rnic.syndicat_principal,
        rnic.num_immat_principal,
        rnic.residence_service,
        rnic.syndicat_cooperatif,
        rnic.controles,
        tup_match.idtup,
        tup.typetup,
        tup.ctpdl,
        tup.copro_ff,
        tup.nloghcopro,
        tup.nlogh,
        tup.nlocal,
        tup.an_const,
        tup_match.methode as methode_appariement,
        tup_match.motif as motif_appariement,
        tup_match.distance_m as distance_appariement_m,
        case when rnic.geom is not null then 'rnic' when tup.geompoint is not null then 'tup' end as source_geom,
        coalesce(rnic.geom, tup.geompoint) as geom
    from rnic
    inner join tup_match on tup_match.num_immat = rnic.num_immat
    left join tup on tup.idtup = tup_match.idtup
    left join registrations_per_tup on registrations_per_tup.idtup = tup_match.idtup
),

-- FF-only copropriétés: TUPs holding an FF copropriété that no registration matched
ff_only as (
    select
        'FF_' || tup.idtup as idcopro,
        'ff_only' as situation,
        0 as copro_tup,
        null::char(9) as num_immat,
        null::text as nom_copro,
        null::text as adresse,
        null::text as numero_voie,
        null::char(5) as code_postal,
        null::text as commune_adresse,
        tup.idcom as code_commune,
        tup.code_departement,
        null::text as epci,
        null::integer as lots_total,
        null::integer as lots_hab_bur_com,
        null::integer as lots_hab,
        null::integer as lots_stationnement,
        null::text as p_constr,
        null::text as type_syndic,
        null::text as syndic_raison_sociale,
        null::text as mandat,
        null::date as date_fin_mandat,
        null::date as date_immat,
        null::date as date_maj,
        null::date as date_reglement,
        null::boolean as syndicat_principal,
        null::char(9) as num_immat_principal,
        null::boolean as residence_service,
        null::boolean as syndicat_cooperatif,
        '{}'::text[] as controles,
        tup.idtup,
        tup.typetup,
        tup.ctpdl,
        tup.copro_ff,
        tup.nloghcopro,
        tup.nlogh,
        tup.nlocal,
        tup.an_const,
        null::text as methode_appariement,
        null::text as motif_appariement,
        null::numeric as distance_appariement_m,
        case when tup.geompoint is not null then 'tup' end as source_geom,
        tup.geompoint as geom
    from tup
    where tup.copro_ff
      and not exists (select 1 from registrations_per_tup where registrations_per_tup.idtup = tup.idtup)
),

-- the referential: both populations, columns lined up by name (one explicit list per branch)
referential as (
    select
        idcopro, situation, copro_tup, num_immat, nom_copro, adresse, numero_voie, code_postal,
        commune_adresse, code_commune, code_departement, epci, lots_total, lots_hab_bur_com, lots_hab,
        lots_stationnement, p_constr, type_syndic, syndic_raison_sociale, mandat, date_fin_mandat,
        date_immat, date_maj, date_reglement, syndicat_principal, num_immat_principal,
        residence_service, syndicat_cooperatif, controles, idtup, typetup, ctpdl, copro_ff,
        nloghcopro, nlogh, nlocal, an_const, methode_appariement, motif_appariement,
        distance_appariement_m, source_geom, geom
    from registered
    union all
    select
        idcopro, situation, copro_tup, num_immat, nom_copro, adresse, numero_voie, code_postal,
        commune_adresse, code_commune, code_departement, epci, lots_total, lots_hab_bur_com, lots_hab,
        lots_stationnement, p_constr, type_syndic, syndic_raison_sociale, mandat, date_fin_mandat,
        date_immat, date_maj, date_reglement, syndicat_principal, num_immat_principal,
        residence_service, syndicat_cooperatif, controles, idtup, typetup, ctpdl, copro_ff,
        nloghcopro, nlogh, nlocal, an_const, methode_appariement, motif_appariement,
        distance_appariement_m, source_geom, geom
    from ff_only
)

select
    -- ids
    idcopro,
    cast(:millesime as smallint) as millesime,
    num_immat,
    idtup,
    -- situation
    situation,
    copro_tup,
    coalesce(copro_tup > 1, false) as indicatif,
    (idtup is not null and num_immat is not null and not copro_ff) as tup_sans_copro_ff,
    -- RNIC attributes
    nom_copro,
    adresse,
    numero_voie,
    code_postal,
    commune_adresse,
    code_commune,
    code_departement,
    epci,
    lots_total,
    lots_hab_bur_com,
    lots_hab,
    lots_stationnement,
    p_constr,
    type_syndic,
    syndic_raison_sociale,
    mandat,
    date_fin_mandat,
    date_immat,
    date_maj,
    date_reglement,
    syndicat_principal,
    num_immat_principal,
    residence_service,
    syndicat_cooperatif,
    controles,
    -- FF attributes
    typetup,
    ctpdl,
    copro_ff,
    nloghcopro,
    nlogh,
    nlocal,
    an_const,
    -- matching
    methode_appariement,
    motif_appariement,
    distance_appariement_m,
    -- geometry (WGS84)
    source_geom,
    ST_SetSRID(geom, 4326)::geometry(Point, 4326) as geom
from referential
