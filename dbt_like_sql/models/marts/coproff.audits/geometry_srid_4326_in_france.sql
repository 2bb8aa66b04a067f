-- audit: geometry_srid_4326_in_france
-- severity: blocking
-- threshold: none
-- description: geom est un point en SRID 4326 dans la boîte WGS84 d'un territoire couvert par le
--   registre (ref.territoires où couvert_registre : métropole, DROM, Saint-Pierre-et-Miquelon,
--   Saint-Barthélemy, Saint-Martin).
with referentiel as (
    select idcopro, geom
    from coproff.coproff
    where millesime = :millesime and geom is not null
),

-- the boxes of the covered territories (a few rows)
territoires as materialized (
    select code, lon_min, lat_min, lon_max, lat_max
    from ref.territoires
    where couvert_registre
),

-- in the box of a covered territory, bounds included; only WGS84 points are compared
-- (CASE: st_x is never evaluated on another geometry type)
situees as (
    select
        r.idcopro,
        r.geom,
        case when st_srid(r.geom) = 4326 and geometrytype(r.geom) = 'POINT' then exists (
            select 1 from territoires as t
            where st_x(r.geom) between t.lon_min and t.lon_max
              and st_y(r.geom) between t.lat_min and t.lat_max
        ) else false end as en_france
    from referentiel as r
)

select
    idcopro,
    st_srid(geom) as srid,
    geometrytype(geom) as type,
    case when geometrytype(geom) = 'POINT' then round(st_x(geom)::numeric, 5) end as x,
    case when geometrytype(geom) = 'POINT' then round(st_y(geom)::numeric, 5) end as y
from situees
-- a WGS84 point inside one of the covered territories
where not en_france
order by idcopro
