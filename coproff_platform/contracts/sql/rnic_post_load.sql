-- RNIC post-load control `point_loin_commune`, run after COPY in the load transaction.
-- A registration point farther than :distance_m from the extent of its commune's parcels (the
-- arrondissement for Paris, Lyon, Marseille) is flagged in `controles`. The parcels are those the
-- millésime has: the Fichiers fonciers when loaded, else the open cadastre (each table is empty
-- for a millésime built from the other one). `{table}` is the fresh RNIC table; the statement
-- returns the source file of each flagged row, for the per-file counts.
with parcelles as (  -- parcels of the millésime, whichever source provides them
    select idcom as code_commune, geompar_4326 as geom
    from staging.ff_parcelle
    where millesime = :millesime and geompar_4326 is not null
    union all
    select code_commune, geom
    from staging.cadastre_parcelle
    where millesime = :millesime and geom is not null
),
communes as (  -- extent of each commune's parcels
    select code_commune, st_extent(geom)::geometry as box
    from parcelles
    group by code_commune
),
far as (
    select r.ctid as row_id
    from {table} r
    join communes c on c.code_commune = coalesce(r.code_arrondissement, r.code_commune)
    where r.geom is not null
      and not st_dwithin(r.geom::geography, c.box::geography, :distance_m)
)
update {table} r set controles = array_append(r.controles, 'point_loin_commune')
from far where r.ctid = far.row_id
returning r.source_file
