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

territoires as (
    select code, st_makeenvelope(lon_min, lat_min, lon_max, lat_max, 4326) as boite
    from ref.territoires
    where couvert_registre
),

situees as (
    select
        r.idcopro,
        r.geom,
        (
            select min(t.code) from territoires as t
            where st_srid(r.geom) = 4326 and st_intersects(r.geom, t.boite)
        ) as territoire
    from referentiel as r
)

select
    idcopro,
    st_srid(geom) as srid,
    geometrytype(geom) as type,
    round(st_x(geom)::numeric, 5) as x,
    round(st_y(geom)::numeric, 5) as y
from situees
-- a WGS84 point inside one of the covered territories
where st_srid(geom) <> 4326 or geometrytype(geom) <> 'POINT' or territoire is null
order by idcopro
