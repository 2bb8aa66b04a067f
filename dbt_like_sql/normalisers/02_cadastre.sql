-- Cadastral references and arrays: SQL twins of normalise.idpar_from_parts, idpar,
-- idpar_ref_or_parts and pg_array_text (conventions: 01_scalaires.sql, README.md).

-- A component of a cadastral reference is missing only for the placeholders marked
-- composante_cadastrale (`NA` is a real section, not R's missing value).
create or replace function norm.component_missing(raw text) returns boolean
language sql immutable parallel safe
return raw is null or norm.fold(norm.strip(raw)) = any (
  {{ select quote_literal(array_agg(valeur order by valeur) || array['']) || '::text[]' from ref.valeurs_manquantes where composante_cadastrale }});

-- Paris, Lyon, Marseille: commune + arrondissement préfixe (75056 + 118) → arrondissement + 000.
create or replace function norm.plm(commune_prefixe text) returns text
language sql immutable parallel safe
return case when commune_prefixe = any (
              {{ select quote_literal(array_agg(code_commune || lpad(p::text, 3, '0') order by code_commune, p)) || '::text[]'
                   from ref.arrondissements_plm, generate_series(prefixe_min, prefixe_max) as p }})
            then left(commune_prefixe, 2) || right(commune_prefixe, 3) || '000'
            else commune_prefixe end;

-- normalise.idpar_from_parts: 14-character FF idpar; NULL when a component is missing.
create or replace function norm.idpar_from_parts(code_insee text, prefixe text, section text, numero text) returns text
language sql immutable parallel safe
return case when not (norm.component_missing(code_insee) or norm.component_missing(prefixe)
                      or norm.component_missing(section) or norm.component_missing(numero))
            then norm.plm(norm.insee(code_insee) || lpad(substring(norm.strip(prefixe) from '^[0-9]{1,3}$'), 3, '0'))
                 || upper(lpad(substring(norm.strip(section) from '^[0-9A-Za-z]{1,2}$'), 2, '0'))
                 || lpad(substring(norm.strip(numero) from '^[0-9]{1,4}$'), 4, '0') end;

-- The commune is checked first (its own reason code); a missing commune (`NA`) is no error.
create or replace function norm.idpar_from_parts_motif(code_insee text, prefixe text, section text, numero text) returns text
language sql immutable parallel safe
return case when norm.component_missing(code_insee) or norm.component_missing(prefixe)
                 or norm.component_missing(section) or norm.component_missing(numero) then null
            when norm.insee_motif(code_insee) is not null then 'code_insee_invalide'
            when norm.insee(code_insee) is not null and norm.idpar_from_parts(code_insee, prefixe, section, numero) is null
            then 'reference_cadastrale_invalide' end;

-- The 14 characters of a full reference, upper-cased, spaces read as 0, a one-letter section's
-- lost padding restored (13 characters); NULL when not 14 characters then.
create or replace function norm.idpar_14(upper_raw text) returns text
language sql immutable parallel safe
return case when length(upper_raw) = 14 then upper_raw
            when length(upper_raw) = 13 and substr(upper_raw, 9, 1) ~ '[A-Z]' and substr(upper_raw, 10, 1) ~ '[0-9]'
            then left(upper_raw, 8) || '0' || substr(upper_raw, 9) end;

-- ASCII checked before upper(): PostgreSQL upper-cases `ı` to `I`, Python's check refuses it.
create or replace function norm.idpar_candidate(raw text) returns text
language sql immutable parallel safe
return case when not norm.component_missing(raw) and octet_length(norm.strip(raw)) = length(norm.strip(raw))
            then norm.idpar_14(replace(upper(norm.strip(raw)), ' ', '0')) end;

-- normalise.idpar: a full reference (Paris/Lyon/Marseille, 13-character form accepted).
create or replace function norm.idpar_of_14(v text) returns text
language sql immutable parallel safe
return norm.idpar_from_parts(substr(v, 1, 5), substr(v, 6, 3), substr(v, 9, 2), substr(v, 11, 4));

create or replace function norm.idpar(raw text) returns text
language sql immutable parallel safe
return norm.idpar_of_14(norm.idpar_candidate(raw));

create or replace function norm.idpar_motif(raw text) returns text
language sql immutable parallel safe
return case when norm.component_missing(raw) then null
            when norm.idpar_candidate(raw) is null then 'reference_cadastrale_invalide'
            else norm.idpar_from_parts_motif(substr(norm.idpar_candidate(raw), 1, 5), substr(norm.idpar_candidate(raw), 6, 3),
                                             substr(norm.idpar_candidate(raw), 9, 2), substr(norm.idpar_candidate(raw), 11, 4)) end;

-- normalise.idpar_ref_or_parts: the full reference when filled and valid, else its components.
create or replace function norm.idpar_ref_or_parts(ref text, code_insee text, prefixe text, section text, numero text) returns text
language sql immutable parallel safe
return case when not norm.component_missing(ref) and norm.idpar_motif(ref) is null then norm.idpar(ref)
            else norm.idpar_from_parts(code_insee, prefixe, section, numero) end;

-- A malformed reference whose components do not make an idpar keeps the reference's reason.
create or replace function norm.idpar_ref_or_parts_motif(ref text, code_insee text, prefixe text, section text, numero text) returns text
language sql immutable parallel safe
return case when norm.component_missing(ref) then norm.idpar_from_parts_motif(code_insee, prefixe, section, numero)
            when norm.idpar_motif(ref) is not null and norm.idpar_from_parts(code_insee, prefixe, section, numero) is null
            then norm.idpar_motif(ref) end;

-- normalise.pg_array_text: `{a, "b" ,c}` → {a,b,c}. Each part stripped of whitespace (blank parts
-- dropped), then of its surrounding double quotes (a part of quotes only stays, as ''): U+FFFF
-- marks those while the blanks are dropped, so a raw value holding U+FFFF would differ.
create or replace function norm.pg_array_inner(content text) returns text[]
language sql immutable parallel safe
return array_replace(array_remove(string_to_array(
         regexp_replace(regexp_replace(regexp_replace(
           regexp_replace(norm.strip(content), '[' || norm.ws() || ']*,[' || norm.ws() || ']*', ',', 'g'),
           '(^|,)"+(?=,|$)', U&'\\1\FFFF', 'g'),
           '(^|,)"+', '\1', 'g'),
           '"+(?=,|$)', '', 'g'),
         ','), ''), U&'\FFFF', '');

create or replace function norm.pg_array_text(raw text) returns text[]
language sql immutable parallel safe
return case when not norm.is_missing(raw) and norm.strip(raw) like '{%}'
            then norm.pg_array_inner(substr(norm.strip(raw), 2, length(norm.strip(raw)) - 2)) end;

create or replace function norm.pg_array_text_motif(raw text) returns text
language sql immutable parallel safe
return case when not norm.is_missing(raw) and norm.strip(raw) not like '{%}' then 'tableau_invalide' end;
