-- intermediate.tup: the TUPs (unités foncières unifiées) of the millésime, in WGS84, with the
-- FF copropriété rule evaluated once for every model that needs it.
--
-- Parcel source (source_parcelles): the Fichiers fonciers when the millésime has FF TUPs ('ff');
-- otherwise the open cadastre ('cadastre', open-cadastre mode): each cadastral parcel is then a
-- TUP of type SIMPLE whose idtup is its idpar, and every FF attribute (ctpdl, dwellings, year of
-- construction) is NULL, so no TUP holds an FF copropriété. With both sources, FF wins and the
-- cadastre is not read into the TUPs.
--
-- Rule (CoproFF): a TUP "holds an FF copropriété" when FF records a divided property in lots on it
-- (ctpdl filled) with at least coproff_ff_logements_min dwellings in that property (ref.parametres).
-- A divided property with a single dwelling is not a copropriété.
-- Geometries are reprojected here from the local projection of each département (srid column,
-- see ref.territoires) to WGS84.

with

-- not materialized: read twice (the rows, and `not exists` of the open-cadastre mode); a
-- materialized copy of the national TUPs wrote 700 MB of temporary files
ff_tup as not materialized (
    select
        idtup,
        typetup,
        idcom,
        l_idpar,
        nparcel,
        ctpdl,
        nlocal,
        nlogh,
        nloghcopro,
        jannatmin,
        srid,
        geomtup,
        geompoint,
        geomtup_4326,
        geompoint_4326
    from staging.ff_tup
    where millesime = :millesime
),

cadastre_parcelle as (
    select
        idpar,
        code_commune,
        geom
    from staging.cadastre_parcelle
    where millesime = :millesime
),

-- overseas départements and collectivities have 3-character codes (ref.territoires)
territoire_outre_mer as (
    select code_departement
    from ref.territoires
    where code_departement is not null
),

parametres as (
    select
        max(case when code = 'coproff_ff_logements_min' then valeur::numeric end) as logements_min
    from ref.parametres
),

-- Local geometries carry their département's projection; a geometry loaded without SRID gets the
-- one recorded in `srid`.
local_geometries as (
    select
        ff_tup.*,
        case when ST_SRID(geomtup) = 0 then ST_SetSRID(geomtup, srid) else geomtup end as geomtup_local,
        case when ST_SRID(geompoint) = 0 then ST_SetSRID(geompoint, srid) else geompoint end as geompoint_local
    from ff_tup
),

ff_wgs84 as (
    select
        idtup,
        typetup,
        idcom,
        l_idpar,
        nparcel,
        ctpdl,
        nlocal,
        nlogh,
        nloghcopro,
        jannatmin,
        srid,
        -- The loader already stored ST_Transform(geomtup, 4326) (staging `sql_columns`): reused
        -- instead of transforming 1.6 million national polygons and points again; transformed
        -- here only when it is missing.
        coalesce(geomtup_4326, ST_Transform(geomtup_local, 4326)) as polygon_4326,
        -- TUP point: the FF point, else a point on the surface of the polygon
        coalesce(
            geompoint_4326,
            ST_Transform(geompoint_local, 4326),
            ST_PointOnSurface(coalesce(geomtup_4326, ST_Transform(geomtup_local, 4326)))
        ) as point_4326,
        'ff' as source_parcelles
    from local_geometries
),

-- open-cadastre mode: only for a millésime without any FF TUP; one parcel = one SIMPLE TUP, FF
-- attributes unknown (NULL), geometry already WGS84 (the Etalab files are published in EPSG:4326)
cadastre_wgs84 as (
    select
        idpar::text as idtup,
        'SIMPLE' as typetup,
        code_commune as idcom,
        array[idpar::text] as l_idpar,
        1 as nparcel,
        null::text as ctpdl,
        null::integer as nlocal,
        null::integer as nlogh,
        null::integer as nloghcopro,
        null::integer as jannatmin,
        4326 as srid,
        geom as polygon_4326,
        ST_PointOnSurface(geom) as point_4326,
        'cadastre' as source_parcelles
    from cadastre_parcelle
    where not exists (select 1 from ff_tup)
),

wgs84 as (
    select * from ff_wgs84
    union all
    select * from cadastre_wgs84
)

select
    -- ids
    idtup,
    cast(:millesime as smallint) as millesime,
    typetup,
    idcom,
    coalesce(territoire_outre_mer.code_departement, left(idcom, 2)) as code_departement,
    l_idpar,
    nparcel,
    -- parcel source of the millésime: 'ff' (Fichiers fonciers) or 'cadastre' (open cadastre)
    source_parcelles,
    -- FF copropriété rule: divided property in lots with at least coproff_ff_logements_min dwellings
    ctpdl,
    (ctpdl is not null and coalesce(nloghcopro, 0) >= parametres.logements_min) as copro_ff,
    -- counts and dates
    nlocal,
    nlogh,
    nloghcopro,
    jannatmin as an_const,
    -- geometry (WGS84)
    srid as srid_local,
    ST_Multi(polygon_4326)::geometry(MultiPolygon, 4326) as geomtup,
    point_4326::geometry(Point, 4326) as geompoint
from wgs84
cross join parametres
left join territoire_outre_mer on territoire_outre_mer.code_departement = left(wgs84.idcom, 3)
