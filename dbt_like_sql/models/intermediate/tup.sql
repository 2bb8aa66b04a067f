-- intermediate.tup: the TUPs (unités foncières unifiées) of the millésime, in WGS84, with the
-- FF copropriété rule evaluated once for every model that needs it.
--
-- Rule (CoproFF): a TUP "holds an FF copropriété" when FF records a divided property in lots on it
-- (ctpdl filled) with at least two dwellings in that property (nloghcopro >= 2). A divided property
-- with a single dwelling is not a copropriété.
-- Geometries are reprojected here from the local projection of each département (srid column:
-- 2154 metropolitan France, 5490 Antilles, 2972 Guyane, 2975 Réunion, 4471 Mayotte) to WGS84.

with

ff_tup as (
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

-- Local geometries carry their département's projection; a geometry loaded without SRID gets the
-- one recorded in `srid`.
local_geometries as (
    select
        ff_tup.*,
        case when ST_SRID(geomtup) = 0 then ST_SetSRID(geomtup, srid) else geomtup end as geomtup_local,
        case when ST_SRID(geompoint) = 0 then ST_SetSRID(geompoint, srid) else geompoint end as geompoint_local
    from ff_tup
),

wgs84 as (
    select
        local_geometries.*,
        coalesce(ST_Transform(geomtup_local, 4326), geomtup_4326) as polygon_4326,
        -- TUP point: the FF point, else a point on the surface of the polygon
        coalesce(
            ST_Transform(geompoint_local, 4326),
            geompoint_4326,
            ST_PointOnSurface(coalesce(ST_Transform(geomtup_local, 4326), geomtup_4326))
        ) as point_4326
    from local_geometries
)

select
    -- ids
    idtup,
    cast(:millesime as smallint) as millesime,
    typetup,
    idcom,
    case when left(idcom, 2) in ('97', '98') then left(idcom, 3) else left(idcom, 2) end as code_departement,
    l_idpar,
    nparcel,
    -- FF copropriété rule: divided property in lots with at least two dwellings
    ctpdl,
    (ctpdl is not null and coalesce(nloghcopro, 0) >= 2) as copro_ff,
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
