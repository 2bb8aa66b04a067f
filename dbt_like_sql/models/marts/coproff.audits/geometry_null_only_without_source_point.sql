-- audit: geometry_null_only_without_source_point
-- severity: blocking
-- threshold: none
-- description: geom n'est NULL que si ni le point RNIC de l'immatriculation ni une géométrie de la
--   TUP (son point, sinon son polygone) n'existe dans les sources chargées du millésime.
with referentiel as (
    select idcopro, num_immat, idtup
    from coproff.coproff
    where millesime = :millesime and geom is null
),

rnic as (
    select num_immat, geom
    from staging.rnic
    where millesime = :millesime
),

ff_tup as (
    select idtup, coalesce(geompoint_4326, geompoint, geomtup_4326, geomtup) as geometrie
    from staging.ff_tup
    where millesime = :millesime
)

select
    c.idcopro,
    c.num_immat,
    c.idtup,
    r.geom is not null as point_rnic_disponible,
    t.geometrie is not null as geometrie_tup_disponible
from referentiel as c
left join rnic as r on r.num_immat = c.num_immat
left join ff_tup as t on t.idtup = c.idtup
-- a source point existed, yet the row has none
where r.geom is not null or t.geometrie is not null
order by c.idcopro
