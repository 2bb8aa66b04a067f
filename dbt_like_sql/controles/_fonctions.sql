-- Helpers of the business controls, created in the session (pg_temp) before `_soumises.sql`.
-- The JSON Schema already checked the patterns; these say whether the value exists.

-- A calendar date `AAAA-MM-JJ`, NULL when it does not exist (2023-02-30). Nested CASEs: the
-- inner ones only run once the outer ones hold (make_date would raise on month 13).
create function pg_temp.jour(v text) returns date language sql immutable as $$
    select case when v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
        case when substr(v, 1, 4)::int >= 1 and substr(v, 6, 2)::int between 1 and 12 then
            case when substr(v, 9, 2)::int between 1 and extract(day from
                    make_date(substr(v, 1, 4)::int, substr(v, 6, 2)::int, 1) + interval '1 month - 1 day')::int
                 then v::date end
        end
    end
$$;

-- The calendar day of an ISO 8601 date and time as written (its own offset, not converted),
-- NULL when the date, the time or the offset does not exist (24:00, :60, +24:00).
create function pg_temp.jour_heure(v text) returns date language sql immutable as $$
    select case when m is not null
                 and m[2]::int < 24 and m[3]::int < 60 and coalesce(m[4], '0')::int < 60
                 and coalesce(m[5], '0')::int < 24 and coalesce(m[6], '0')::int < 60
           then pg_temp.jour(m[1]) end
    from (select regexp_match(v, '^([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?(?:Z|[+-]([0-9]{2}):([0-9]{2}))?$') m) s
$$;

-- A registration number as the registry compares them: separators removed, capitals.
create function pg_temp.num_immat(v text) returns text language sql immutable as $$
    select nullif(upper(regexp_replace(v, '[\s.-]', '', 'g')), '')
$$;
