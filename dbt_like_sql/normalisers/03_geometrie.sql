-- Geometry: SQL twins of normalise.ewkt_or_ewkb, point_ewkt, local_srid, in_france and
-- departement_of_insee (conventions: 01_scalaires.sql, README.md). Territories, local SRIDs and
-- boxes are baked from ref.territoires.

-- normalise.ewkt_or_ewkb, value part: the stripped text when it is EWKT with an SRID
-- (MULTI)POLYGON / (MULTI)POINT, optionally Z, or hex EWKB with the SRID flag; else NULL.
-- ASCII case-insensitive and ASCII whitespace, as Python's re.I | re.A (no `ſRID=`).
create or replace function norm.ewkt_head(v text) returns text
language sql immutable parallel safe
return substring(v from E'^[Ss][Rr][Ii][Dd]=([0-9]+);[ \\t\\n\\r\\f\\v]*(?:[Mm][Uu][Ll][Tt][Ii])?(?:[Pp][Oo][Ll][Yy][Gg][Oo][Nn]|[Pp][Oo][Ii][Nn][Tt])[ \\t\\n\\r\\f\\v]*(?:[Zz][ \\t\\n\\r\\f\\v]*)?\\(.*\\)$');

-- The 8 header bytes after the byte-order byte of a hex EWKB: type (4) then SRID (4).
create or replace function norm.ewkb_header(v text) returns bytea
language sql immutable parallel safe
return case when length(v) >= 18 and length(v) % 2 = 0 and v ~ '^[0-9A-Fa-f]+$' then decode(substr(v, 3, 16), 'hex') end;

-- SRID flag (0x20000000) of the type word, little-endian when the first byte is 01.
create or replace function norm.ewkb_srid(v text) returns bigint
language sql immutable parallel safe
return case when left(v, 2) = '01' and get_byte(norm.ewkb_header(v), 3) & 32 = 32
              then get_byte(norm.ewkb_header(v), 4)::bigint + (get_byte(norm.ewkb_header(v), 5)::bigint << 8)
                   + (get_byte(norm.ewkb_header(v), 6)::bigint << 16) + (get_byte(norm.ewkb_header(v), 7)::bigint << 24)
            when left(v, 2) <> '01' and get_byte(norm.ewkb_header(v), 0) & 32 = 32
              then (get_byte(norm.ewkb_header(v), 4)::bigint << 24) + (get_byte(norm.ewkb_header(v), 5)::bigint << 16)
                   + (get_byte(norm.ewkb_header(v), 6)::bigint << 8) + get_byte(norm.ewkb_header(v), 7)::bigint end;

-- normalise.ewkt_or_ewkb, SRID part. An EWKT SRID of more than 18 digits (Python: a huge int)
-- gives NULL here; either way PostGIS knows no such SRID (srid_inconnu).
create or replace function norm.ewkt_srid(head text) returns bigint
language sql immutable parallel safe
return case when length(ltrim(head, '0')) <= 18 then head::bigint end;

create or replace function norm.ewkt_or_ewkb_srid(raw text) returns bigint
language sql immutable parallel safe
return case when norm.is_missing(raw) then null
            when norm.ewkt_head(norm.strip(raw)) is not null then norm.ewkt_srid(norm.ewkt_head(norm.strip(raw)))
            else norm.ewkb_srid(norm.strip(raw)) end;

create or replace function norm.ewkt_or_ewkb(raw text) returns text
language sql immutable parallel safe
return case when not norm.is_missing(raw)
             and (norm.ewkt_head(norm.strip(raw)) is not null or norm.ewkb_srid(norm.strip(raw)) is not null)
            then norm.strip(raw) end;

create or replace function norm.ewkt_or_ewkb_motif(raw text) returns text
language sql immutable parallel safe
return case when not norm.is_missing(raw) and norm.ewkt_or_ewkb(raw) is null then 'geometrie_invalide' end;

-- normalise.point_ewkt, as a geometry (the loader's COPY turned Python's EWKT text into one).
create or replace function norm.point_ewkt(x double precision, y double precision, srid integer) returns geometry
language sql immutable parallel safe
return st_setsrid(st_makepoint(x, y), srid);

-- normalise.local_srid / reference.local_srid: the territory whose département code starts the
-- given code (971…988), else metropolitan France.
create or replace function norm.local_srid(departement_code text) returns integer
language sql immutable parallel safe
return case left(norm.strip(coalesce(departement_code, '')), 3)
  {{ select string_agg(format('when %L then %s', code_departement, srid_local), ' ' order by code_departement)
       from ref.territoires where code_departement is not null }}
  else {{ select srid_local::text from ref.territoires where code_departement is null }} end;

-- normalise.in_france / reference.in_france: inside the box of a territory the registry covers.
create or replace function norm.in_france(lon double precision, lat double precision) returns boolean
language sql immutable parallel safe
return {{ select string_agg(format('(lon between %s and %s and lat between %s and %s)', lon_min, lon_max, lat_min, lat_max),
                            ' or ' order by code) from ref.territoires where couvert_registre }};

-- normalise.departement_of_insee
create or replace function norm.departement_of_insee(code text) returns text
language sql immutable parallel safe
return case when code like '97%' then left(code, 3) else left(code, 2) end;
