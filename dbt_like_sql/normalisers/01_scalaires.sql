-- Scalar normalisers: SQL twins of coproff_platform/normalise.py, proven equal by
-- tests/test_sql_normalisers.py. Conventions (README.md): norm.<name>(raw) is the normalised value,
-- NULL when the raw value is missing OR invalid; norm.<name>_motif(raw) is the reason code Python's
-- `Invalid` carries (NULL when valid or missing). Each function is one SQL expression so that the
-- planner inlines it into the staging INSERT ... SELECT (no function call per value).
-- `{{ query }}` is replaced at install time by the text the query returns, run against the
-- reference layer (dbt_like_sql/reference/, the same rows Python reads): code lists are never typed here.

create schema if not exists norm;
comment on schema norm is 'Normaliseurs SQL (jumeaux de normalise.py)';

-- Python's whitespace (str.isspace / str.split / str.strip): 29 code points.
create or replace function norm.ws() returns text
language sql immutable parallel safe
return E'\t\n\u000b\f\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

-- raw.strip()
create or replace function norm.strip(raw text) returns text
language sql immutable parallel safe
return btrim(raw, norm.ws());

-- The placeholders match case-insensitively; only ASCII letters and É lowercase onto their letters
-- in Python (checked by the tests), so translate() is exact where lower() would also fold `İ`.
create or replace function norm.fold(raw text) returns text
language sql immutable parallel safe
return translate(raw, 'ABCDEFGHIJKLMNOPQRSTUVWXYZÉ', 'abcdefghijklmnopqrstuvwxyzé');

-- normalise.is_missing: NULL, blank, or a placeholder of ref.valeurs_manquantes.
create or replace function norm.is_missing(raw text) returns boolean
language sql immutable parallel safe
return raw is null or norm.fold(norm.strip(raw)) = any (
  {{ select quote_literal(array_agg(valeur order by valeur) || array['']) || '::text[]' from ref.valeurs_manquantes }});

-- normalise.text: trimmed, inner runs of whitespace collapsed to one space.
create or replace function norm.text(raw text) returns text
language sql immutable parallel safe
return case when not norm.is_missing(raw)
            then regexp_replace(norm.strip(raw), '[' || norm.ws() || ']+', ' ', 'g') end;

-- normalise.address: text without trailing commas (and the spaces between them).
create or replace function norm.address(raw text) returns text
language sql immutable parallel safe
return nullif(rtrim(norm.text(raw), ', '), '');

-- normalise.num_immat: 2 letters + 7 digits once whitespace, '-' and '.' are removed (ASCII).
-- No missing placeholder survives the pattern, so the value needs no is_missing().
create or replace function norm.num_immat(raw text) returns text
language sql immutable parallel safe
return upper(substring(regexp_replace(raw, '[' || norm.ws() || '.-]', '', 'g') from '^[A-Za-z]{2}[0-9]{7}$'));

create or replace function norm.num_immat_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.num_immat(raw) is null and not norm.is_missing(raw) then 'num_immat_invalide' end;

-- normalise.insee: 5 characters (Corsica 2A/2B); a trailing '.0' dropped, a lost leading zero restored.
create or replace function norm.insee(raw text) returns text
language sql immutable parallel safe
return substring(regexp_replace(regexp_replace(upper(norm.strip(raw)), '\.0$', ''), '^([0-9]{4})$', '0\1')
                 from '^(?:[0-9]{5}|2[AB][0-9]{3})$');

create or replace function norm.insee_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.insee(raw) is null and not norm.is_missing(raw) then 'code_insee_invalide' end;

-- The number grammar of normalise._NUMBER, once spaces are dropped and the comma is a point.
create or replace function norm.number_text(raw text) returns text
language sql immutable parallel safe
return substring(replace(replace(replace(norm.strip(raw), U&'\00A0', ''), ' ', ''), ',', '.')
                 from '^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?$');

-- normalise.decimal
create or replace function norm.decimal(raw text) returns numeric
language sql immutable parallel safe
return norm.number_text(raw)::numeric;

create or replace function norm.decimal_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.number_text(raw) is null and not norm.is_missing(raw) then 'nombre_invalide' end;

-- normalise.integer: a whole number ('12.0' and '1e3' accepted, '12.5' not). numeric, as Python's
-- int is unbounded: the loader's bounds check (nombre_hors_limites) decides what fits a column.
create or replace function norm.integral(value numeric) returns numeric
language sql immutable parallel safe
return case when value = trunc(value) then trunc(value) end;

create or replace function norm.integer(raw text) returns numeric
language sql immutable parallel safe
return norm.integral(norm.decimal(raw));

create or replace function norm.integer_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.integer(raw) is null and not norm.is_missing(raw) then 'nombre_invalide' end;

-- normalise.coordinate: a finite double. Plain decimals (no exponent, at most 300 characters) are
-- read directly; with an exponent through numeric, so that an overflow is invalid (Python: inf)
-- and an underflow is 0 (Python: 0.0) instead of a PostgreSQL error stopping the whole load.
create or replace function norm.float_of_number(value text) returns double precision
language sql immutable parallel safe
return case
  when length(value) <= 300 and value !~ '[eE]' then value::double precision
  when abs(value::numeric) >= 1.7976931348623158e308 then null
  when abs(value::numeric) < 1e-320 then 0
  else value::numeric::double precision end;

create or replace function norm.coordinate(raw text) returns double precision
language sql immutable parallel safe
return norm.float_of_number(norm.number_text(raw));

create or replace function norm.coordinate_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.coordinate(raw) is null and not norm.is_missing(raw) then 'coordonnee_invalide' end;

-- normalise.date: ISO YYYY-MM-DD (a time part ignored) or French dd/mm/YYYY, a real calendar day.
create or replace function norm.make_date_or_null(y integer, m integer, d integer) returns date
language sql immutable parallel safe
return case when y >= 1 and m between 1 and 12 and d >= 1
             and d <= case when m = 2 then case when (y % 4 = 0 and y % 100 <> 0) or y % 400 = 0 then 29 else 28 end
                           when m in (4, 6, 9, 11) then 30 else 31 end
            then make_date(y, m, d) end;

create or replace function norm.date(raw text) returns date
language sql immutable parallel safe
return case
  when norm.strip(raw) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][^\n]*)?$'
    then norm.make_date_or_null(substr(norm.strip(raw), 1, 4)::integer, substr(norm.strip(raw), 6, 2)::integer,
                                substr(norm.strip(raw), 9, 2)::integer)
  when norm.strip(raw) ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}(?: [^\n]*)?$'
    then norm.make_date_or_null(left(split_part(norm.strip(raw), '/', 3), 4)::integer,
                                split_part(norm.strip(raw), '/', 2)::integer, split_part(norm.strip(raw), '/', 1)::integer)
  end;

create or replace function norm.date_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.date(raw) is null and not norm.is_missing(raw) then 'date_invalide' end;

-- normalise.boolean: ref.valeurs_booleennes.
create or replace function norm.boolean(raw text) returns boolean
language sql immutable parallel safe
return case when norm.fold(norm.strip(raw)) = any (
              {{ select quote_literal(array_agg(valeur order by valeur)) || '::text[]' from ref.valeurs_booleennes where booleen }})
            then true
            when norm.fold(norm.strip(raw)) = any (
              {{ select quote_literal(array_agg(valeur order by valeur)) || '::text[]' from ref.valeurs_booleennes where not booleen }})
            then false end;

create or replace function norm.boolean_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.boolean(raw) is null and not norm.is_missing(raw) then 'booleen_invalide' end;

-- normalise.postcode: 3 to 5 digits left-padded to 5 (a trailing '.0' dropped).
create or replace function norm.postcode(raw text) returns text
language sql immutable parallel safe
return lpad(substring(regexp_replace(norm.strip(raw), '\.0$', '') from '^[0-9]{3,5}$'), 5, '0');

create or replace function norm.postcode_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.postcode(raw) is null and not norm.is_missing(raw) then 'code_postal_invalide' end;

-- normalise.departement: `1` → `01`, `2A`, `974`.
create or replace function norm.departement(raw text) returns text
language sql immutable parallel safe
return substring(regexp_replace(upper(norm.strip(raw)), '^([0-9])$', '0\1') from '^(?:[0-9]{2}|2[AB]|97[1-8])$');

create or replace function norm.departement_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.departement(raw) is null and not norm.is_missing(raw) then 'departement_invalide' end;

-- normalise.period: the name normalised as normalise_name (NFKD, accents dropped, [^a-z0-9]+ → _),
-- upper-cased, then ref.valeurs_periode_inconnue (NULL) or ref.periodes_construction (the code).
create or replace function norm.period_key(raw text) returns text
language sql immutable parallel safe
return upper(btrim(regexp_replace(lower(regexp_replace(normalize(raw, NFKD),
                   U&'[\0300-\036F\1AB0-\1AFF\1DC0-\1DFF\20D0-\20FF\FE20-\FE2F]', '', 'g')), '[^a-z0-9]+', '_', 'g'), '_'));

create or replace function norm.period(raw text) returns text
language sql immutable parallel safe
return case when norm.period_key(raw) = any (
              {{ select quote_literal(array_agg(code order by ordre)) || '::text[]' from ref.periodes_construction }})
            and not norm.is_missing(raw)
            then norm.period_key(raw) end;

create or replace function norm.period_motif(raw text) returns text
language sql immutable parallel safe
return case when not norm.is_missing(raw)
             and not norm.period_key(raw) = any (
               {{ select quote_literal(array_agg(code order by ordre)) || '::text[]' from ref.periodes_construction }}
               || {{ select quote_literal(array_agg(valeur order by valeur)) || '::text[]' from ref.valeurs_periode_inconnue }})
            then 'periode_inconnue' end;

-- normalise.siret: 14 digits once whitespace and '.' are removed (the checksum is a soft control).
create or replace function norm.siret(raw text) returns text
language sql immutable parallel safe
return substring(regexp_replace(raw, '[' || norm.ws() || '.]', '', 'g') from '^[0-9]{14}$');

create or replace function norm.siret_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.siret(raw) is null and not norm.is_missing(raw) then 'siret_invalide' end;

-- normalise.label_a_g: one letter A–G.
create or replace function norm.label_a_g(raw text) returns text
language sql immutable parallel safe
return upper(substring(norm.strip(raw) from '^[A-Ga-g]$'));

create or replace function norm.label_a_g_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.label_a_g(raw) is null and not norm.is_missing(raw) then 'etiquette_invalide' end;
