-- Open cadastre (Etalab GeoJSON) → staging.cadastre_parcelle, set-based, in the load transaction.
-- `loading/geojson.py` COPYs each feature's text into pg_temp._cadastre_raw, then runs these
-- blocks in order. A bad feature costs its row: it is quarantined with its file, feature number,
-- field and reason; the others load. Everything lives in pg_temp and goes at commit.

-- name: create_raw
create temp table if not exists _cadastre_raw (
    source_file text not null,
    source_line integer not null,  -- feature number in its file, from 1
    feature text not null,
    has_nul boolean not null       -- the feature held a NUL byte (removed so that COPY accepts it)
) on commit drop

-- name: create_parse_function
-- One feature's text → typed values, or the reason it cannot be read. The exception blocks
-- catch what PostgreSQL or PostGIS refuse for this feature only (unreadable JSON, a non-closed
-- ring, a number that is not an integer, a date that does not exist).
create or replace function pg_temp.coproff_cadastre_feature(
    feature text,
    out idpar text, out code_commune text, out prefixe text, out section text, out numero text,
    out contenance integer, out date_creation date, out date_maj date, out geom geometry,
    out declared_srid integer, out reason text, out field text, out detail text
) language plpgsql immutable as $$
declare
    j jsonb;
    p jsonb;
begin
    begin
        j := feature::jsonb;
    exception when others then
        reason := 'objet_illisible'; detail := sqlerrm; return;
    end;
    p := coalesce(j -> 'properties', '{}'::jsonb);
    idpar := coalesce(p ->> 'id', j ->> 'id');
    code_commune := p ->> 'commune';
    prefixe := p ->> 'prefixe';
    section := p ->> 'section';
    numero := p ->> 'numero';
    begin
        field := 'contenance';
        contenance := (p ->> 'contenance')::numeric::integer;
        field := 'created';
        date_creation := (p ->> 'created')::date;
        field := 'updated';
        date_maj := (p ->> 'updated')::date;
    exception
        when numeric_value_out_of_range then
            reason := 'nombre_hors_limites'; detail := sqlerrm; return;
        when invalid_text_representation then
            reason := 'nombre_invalide'; detail := sqlerrm; return;
        when others then
            reason := 'date_invalide'; detail := sqlerrm; return;
    end;
    field := 'geometry';
    if j -> 'geometry' is null or jsonb_typeof(j -> 'geometry') <> 'object' then
        reason := 'geometrie_invalide'; detail := 'feature without geometry'; return;
    end if;
    begin
        geom := st_geomfromgeojson(j -> 'geometry');
    exception when others then
        reason := case when sqlerrm ilike '%closed%' or sqlerrm ilike '%four points%' or sqlerrm ilike '%more points%'
                       then 'geometrie_non_fermee' else 'geometrie_invalide' end;
        detail := sqlerrm;
        return;
    end;
    -- The projection: a legacy `crs` member names it (PostGIS reads only the SRIDs it knows and
    -- silently gives 0 otherwise); without one, RFC 7946 says WGS84.
    declared_srid := case
        when j -> 'geometry' -> 'crs' is null then coalesce(nullif(st_srid(geom), 0), 4326)
        when j -> 'geometry' -> 'crs' -> 'properties' ->> 'name' ilike '%CRS84' then 4326
        else coalesce(substring(j -> 'geometry' -> 'crs' -> 'properties' ->> 'name' from '([0-9]+)$')::integer, -1)
    end;
    field := null;
end $$

-- name: no_jit
-- JIT compiling this long statement costs seconds and saves nothing: off for this transaction.
set local jit = off

-- name: parse
-- Typed rows with the checks that need the whole value; `reason` null = the row loads.
-- GeoJSON is WGS84 (RFC 7946) unless a legacy `crs` member names another projection.
create temp table _cadastre_parsed on commit drop as
with parsed as materialized (  -- one plpgsql call per feature (lateral: `(f(x)).*` would call it once per column)
    select r.source_file, r.source_line, r.feature, r.has_nul, f.*
    from pg_temp._cadastre_raw r
    cross join lateral pg_temp.coproff_cadastre_feature(r.feature) f
),
with_srid as materialized (  -- bounds, for the projection's domain
    select p.*,
           st_xmin(p.geom) as xmin, st_xmax(p.geom) as xmax, st_ymin(p.geom) as ymin, st_ymax(p.geom) as ymax
    from parsed p
),
known_srid as (  -- the SRIDs PostGIS can transform from
    select w.*, s.srid is not null as srid_known
    from with_srid w left join spatial_ref_sys s on s.srid = w.declared_srid
),
checked as materialized (  -- first failing rule wins, in this order
    select w.*,
        case
            when w.has_nul then 'caractere_nul'
            when w.reason is not null then w.reason
            when w.idpar is null or w.idpar !~ '^[0-9]{2}[0-9AB][0-9]{2}[0-9]{3}[0-9A-Z]{2}[0-9]{4}$'
                then 'identifiant_parcelle_invalide'
            when st_geometrytype(w.geom) not in ('ST_Polygon', 'ST_MultiPolygon') then 'geometrie_type_invalide'
            when not w.srid_known then 'srid_inconnu'
            -- WGS84 numbers out of range: projected coordinates (Lambert-93...) labelled WGS84
            when w.declared_srid = 4326 and not (w.xmin >= -180 and w.xmax <= 180 and w.ymin >= -90 and w.ymax <= 90)
                then 'srid_incoherent'
        end as reject_reason,
        case
            when w.has_nul then null
            when w.reason is not null then w.field
            when w.idpar is null or w.idpar !~ '^[0-9]{2}[0-9AB][0-9]{2}[0-9]{3}[0-9A-Z]{2}[0-9]{4}$' then 'id'
            else 'geometry'
        end as reject_field
    from known_srid w
),
wgs84 as (  -- geometries of the rows that load, in WGS84
    select c.*,
        case when c.reject_reason is null
             then st_transform(st_setsrid(c.geom, c.declared_srid), 4326) end as geom_4326
    from checked c
),
validity as materialized (  -- ST_IsValid once per geometry (the costly test)
    select w.*, w.geom_4326 is not null and not st_isvalid(w.geom_4326) as invalid
    from wgs84 w
),
reasons as (  -- why an invalid geometry is invalid: a ring left open is refused, not guessed at
    select v.*,
        v.invalid and (st_isvalidreason(v.geom_4326) ilike '%closed linestring%'
                       or st_isvalidreason(v.geom_4326) ilike '%too few points%') as not_closed
    from validity v
),
repairable as (
    select r.*, r.invalid and not r.not_closed as was_repaired
    from reasons r
),
repaired as (  -- self-intersections: repaired by ST_MakeValid (polygonal part kept) and flagged
    select v.*,
        case when v.was_repaired then st_collectionextract(st_makevalid(v.geom_4326), 3)
             else v.geom_4326 end as geom_valid
    from repairable v
)
select
    r.source_file, r.source_line, r.feature,
    r.idpar, r.code_commune, r.prefixe,
    lpad(upper(r.section), 2, '0') as section,  -- Etalab writes one-letter sections unpadded
    lpad(r.numero, 4, '0') as numero,           -- and numbers unpadded
    r.contenance, r.date_creation, r.date_maj,
    st_multi(r.geom_valid) as geom,
    case when r.was_repaired then array['geometrie_reparee'] else '{}'::text[] end as anomalies,
    coalesce(r.reject_reason,
             case when r.not_closed then 'geometrie_non_fermee'
                  when r.was_repaired and st_isempty(r.geom_valid) then 'geometrie_irreparable' end) as reject_reason,
    r.reject_field,
    coalesce(r.detail, case
        when r.has_nul then 'NUL byte (0x00) in the feature'
        when r.reject_reason = 'identifiant_parcelle_invalide' then format('id %L is not a 14-character idpar', r.idpar)
        when r.reject_reason = 'geometrie_type_invalide' then format('geometry type %s', st_geometrytype(r.geom))
        when r.reject_reason = 'srid_inconnu' then format('SRID %s is not in spatial_ref_sys', r.declared_srid)
        when r.reject_reason = 'srid_incoherent' then format('coordinates %s are outside WGS84 (longitude ±180, latitude ±90)',
                                                             st_astext(st_envelope(r.geom)))
        when r.not_closed then st_isvalidreason(r.geom_4326)
        when r.was_repaired and st_isempty(r.geom_valid) then 'ST_MakeValid left no polygon'
    end) as reject_detail,
    false as duplicate
from repaired r

-- name: reject_duplicates
-- One row per idpar: the first in (file, feature) order is kept, the others are quarantined.
update pg_temp._cadastre_parsed p
set reject_reason = 'cle_dupliquee', reject_field = 'id', duplicate = true,
    reject_detail = format('idpar %s already loaded from %s, line %s', p.idpar, d.first_file, d.first_line)
from (
    select source_file, source_line,
           first_value(source_file) over w as first_file, first_value(source_line) over w as first_line,
           row_number() over w as rn
    from pg_temp._cadastre_parsed
    where reject_reason is null
    window w as (partition by idpar order by source_file, source_line)
) d
where d.rn > 1 and p.source_file = d.source_file and p.source_line = d.source_line

-- name: insert
insert into {table} (millesime, idpar, code_commune, prefixe, section, numero, contenance, date_creation,
                     date_maj, geom, anomalies, source_file, source_line)
select :millesime, idpar, code_commune, prefixe, section, numero, contenance, date_creation,
       date_maj, geom, anomalies, source_file, source_line
from pg_temp._cadastre_parsed
where reject_reason is null

-- name: quarantine
insert into quality.quarantine (millesime, source, source_file, source_line, reason, field, detail, raw)
select :millesime, :source, source_file, source_line, reject_reason, reject_field, reject_detail, feature
from pg_temp._cadastre_parsed
where reject_reason is not null

-- name: counts
select source_file, reject_reason, reject_reason is not null as rejected, count(*)::integer as rows
from pg_temp._cadastre_parsed
group by 1, 2, 3

-- name: flag_counts
select source_file, code, count(*)::integer as rows
from pg_temp._cadastre_parsed, unnest(anomalies) as code
where reject_reason is null
group by 1, 2
