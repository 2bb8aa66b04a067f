-- intermediate.parcelle: the parcels of the millésime's TUPs, whatever their source, one row per
-- parcel. The matching reads it to find the parcel a cadastral reference names (step 1) and the
-- section and numéro of the parcels near a point (clues of step 2).
--
-- The parcel source is the one intermediate.tup chose for the millésime (source_parcelles):
-- Fichiers fonciers parcels (staging.ff_parcelle) when the TUPs come from FF, open-cadastre parcels
-- (staging.cadastre_parcelle, each its own TUP) in open-cadastre mode. A parcel is listed only when
-- it belongs to a TUP of the millésime.
-- idpar layout (14 characters): commune (5) + préfixe (3) + section (2) + numéro (4).

with

tup as not materialized (
    select
        idtup,
        source_parcelles
    from intermediate.tup
    where millesime = :millesime
),

ff_parcelle as not materialized (
    select
        idpar,
        idtup,
        idcom,
        geompar_4326
    from staging.ff_parcelle
    where millesime = :millesime
),

cadastre_parcelle as not materialized (
    select
        idpar,
        code_commune,
        geom
    from staging.cadastre_parcelle
    where millesime = :millesime
),

-- FF parcels of the FF TUPs
parcelle_ff as (
    select
        ff_parcelle.idpar::text as idpar,
        ff_parcelle.idtup,
        ff_parcelle.idcom::text as idcom,
        ff_parcelle.geompar_4326 as geompar,
        tup.source_parcelles
    from ff_parcelle
    inner join tup on tup.idtup = ff_parcelle.idtup and tup.source_parcelles = 'ff'
),

-- open-cadastre parcels, each the TUP of the same identifier
parcelle_cadastre as (
    select
        cadastre_parcelle.idpar::text as idpar,
        tup.idtup,
        cadastre_parcelle.code_commune::text as idcom,
        cadastre_parcelle.geom as geompar,
        tup.source_parcelles
    from cadastre_parcelle
    inner join tup on tup.idtup = cadastre_parcelle.idpar::text and tup.source_parcelles = 'cadastre'
),

parcelle as (
    select idpar, idtup, idcom, geompar, source_parcelles from parcelle_ff
    union all
    select idpar, idtup, idcom, geompar, source_parcelles from parcelle_cadastre
)

select
    -- ids
    idpar,
    cast(:millesime as smallint) as millesime,
    idtup,
    idcom,
    -- components of the idpar, for the matching's clues
    substr(idpar, 9, 2) as section,
    substr(idpar, 11, 4) as numero,
    source_parcelles,
    -- geometry (WGS84)
    ST_Multi(geompar)::geometry(MultiPolygon, 4326) as geompar
from parcelle
