-- Geometries of delimited sources (EWKT or hex EWKB in a CSV field, e.g. the Fichiers fonciers),
-- checked set-based after COPY into the load's temporary table, where they are still text.
-- A geometry PostgreSQL/PostGIS refuses, an unknown SRID, or coordinates outside the declared
-- projection's domain cost the row (quarantined with file, line, field, reason); a
-- self-intersecting polygon is repaired by ST_MakeValid and flagged `geometrie_reparee`.

-- name: territory_boxes
-- The WGS84 boxes of the territories of the reference layer (filled from territoires.csv).
create temp table if not exists _territory_boxes (
    code text, lon_min float8, lat_min float8, lon_max float8, lat_max float8
) on commit drop

-- name: geometry_function
create or replace function pg_temp.coproff_geometry(
    raw text, default_srid integer,
    out geom geometry, out repaired boolean, out reason text, out detail text
) language plpgsql as $$
declare
    center geometry;
begin
    repaired := false;
    if raw is null then
        return;
    end if;
    begin
        geom := raw::geometry;
    exception when others then
        reason := case when sqlerrm ilike '%closed%' or sqlerrm ilike '%four points%' or sqlerrm ilike '%more points%'
                       then 'geometrie_non_fermee' else 'geometrie_invalide' end;
        detail := sqlerrm; geom := null; return;
    end;
    if st_srid(geom) = 0 and default_srid is not null then  -- hex EWKB without SRID: the row's projection
        geom := st_setsrid(geom, default_srid);
    end if;
    if st_srid(geom) = 0 or not exists (select 1 from spatial_ref_sys s where s.srid = st_srid(geom)) then
        reason := 'srid_inconnu'; detail := format('SRID %s is not in spatial_ref_sys', st_srid(geom));
        geom := null; return;
    end if;
    -- The projection's domain: the geometry, in WGS84, lies in a territory of the reference layer.
    begin
        center := st_transform(st_centroid(st_envelope(geom)), 4326);
    exception when others then
        center := null;
    end;
    if center is null or not exists (
        select 1 from pg_temp._territory_boxes b
        where st_x(center) between b.lon_min and b.lon_max and st_y(center) between b.lat_min and b.lat_max
    ) then
        reason := 'srid_incoherent';
        detail := format('coordinates around %s are outside every territory in SRID %s',
                         st_astext(st_centroid(st_envelope(geom))), st_srid(geom));
        geom := null; return;
    end if;
    if st_dimension(geom) = 2 and not st_isvalid(geom) then
        if st_isvalidreason(geom) ilike '%closed%' or st_isvalidreason(geom) ilike '%too few points%' then
            reason := 'geometrie_non_fermee'; detail := st_isvalidreason(geom); geom := null; return;
        end if;
        geom := st_collectionextract(st_makevalid(geom), 3);
        repaired := true;
        if st_isempty(geom) then
            reason := 'geometrie_irreparable'; detail := 'ST_MakeValid left no polygon'; geom := null; return;
        end if;
    end if;
end $$

-- name: fast_check
-- The same checks without exception blocks (no subtransaction per row), set-based over the whole
-- file, tried first inside a savepoint: when a geometry PostGIS cannot even parse raises, the
-- savepoint is rolled back and the file goes through `coproff_geometry` row by row.
-- The parsed, judged and verdict placeholders are the per-geometry-column expressions below, joined
-- (no brace in these comments: the text is filled with str.format, a placeholder here broke the SQL).
create temp table {checked} on commit drop as
with parsed as materialized (  -- each text parsed once
    select t.*, {parsed}
    from {temp} t
),
judged as materialized (  -- validity, SRID and WGS84 centre, once per geometry
    select p.*, {judged}
    from parsed p
)
select j.*, {verdict}
from judged j

-- name: fast_parsed
-- EWKB written without SRID takes the row's projection.
case when st_srid({c}::geometry) = 0 and {default_srid} is not null
     then st_setsrid({c}::geometry, {default_srid}) else {c}::geometry end as _p_{c}

-- name: fast_judged
_p_{c} is not null and st_dimension(_p_{c}) = 2 and not st_isvalid(_p_{c}) as _invalid_{c},
exists (select 1 from spatial_ref_sys s where s.srid = st_srid(_p_{c})) as _known_{c},
st_transform(st_centroid(st_envelope(_p_{c})), 4326) as _center_{c}

-- name: fast_verdict
-- The projection's domain: in WGS84 the geometry's centre lies in a territory of the reference layer.
case
    when _p_{c} is null then null
    when st_srid(_p_{c}) = 0 or not _known_{c} then 'srid_inconnu'
    when not exists (select 1 from pg_temp._territory_boxes b
                     where st_x(_center_{c}) between b.lon_min and b.lon_max
                       and st_y(_center_{c}) between b.lat_min and b.lat_max) then 'srid_incoherent'
    when _invalid_{c} and (st_isvalidreason(_p_{c}) ilike '%closed%' or st_isvalidreason(_p_{c}) ilike '%too few points%')
        then 'geometrie_non_fermee'
    when _invalid_{c} and st_isempty(st_collectionextract(st_makevalid(_p_{c}), 3)) then 'geometrie_irreparable'
end as _v_{c}
