-- Helpers of the business controls, created in the session (pg_temp) before `_soumises.sql`.
-- The JSON Schema already checked the patterns (`AAAA-MM-JJ`, ISO 8601 date and time); these say
-- whether the value exists. Single expressions of immutable functions only (make_date, not the
-- stable `::date`), so that PostgreSQL inlines them: a function it cannot inline (a FROM, a
-- stable call in an immutable body) runs call by call, 15 to 370 µs each under load.

-- Days in month m of year y (Gregorian).
create function pg_temp.jours_du_mois(y int, m int) returns int language sql immutable as $$
    select case when m in (4, 6, 9, 11) then 30
                when m = 2 then case when (y % 4 = 0 and y % 100 <> 0) or y % 400 = 0 then 29 else 28 end
                else 31 end
$$;

-- A calendar date `AAAA-MM-JJ`, NULL when it does not exist (2023-02-30). Nested CASEs: the
-- inner ones only run once the outer ones hold (the casts would raise).
create function pg_temp.jour(v text) returns date language sql immutable as $$
    select case when v ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
        case when substr(v, 1, 4)::int >= 1 and substr(v, 6, 2)::int between 1 and 12
              and substr(v, 9, 2)::int between 1 and pg_temp.jours_du_mois(substr(v, 1, 4)::int, substr(v, 6, 2)::int)
             then make_date(substr(v, 1, 4)::int, substr(v, 6, 2)::int, substr(v, 9, 2)::int) end
    end
$$;

-- The calendar day of an ISO 8601 date and time as written (its own offset, not converted),
-- NULL when the date, the time or the offset does not exist (24:00, :60, +24:00). Positions are
-- the schema's pattern: AAAA-MM-JJThh:mm[:ss[.f]][Z|±hh:mm].
create function pg_temp.jour_heure(v text) returns date language sql immutable as $$
    select case when substr(v, 12, 2)::int < 24 and substr(v, 15, 2)::int < 60
                 and (substr(v, 17, 1) <> ':' or substr(v, 18, 2)::int < 60)
                 and (right(v, 6) !~ '^[+-][0-9]{2}:[0-9]{2}$'
                      or (substr(right(v, 5), 1, 2)::int < 24 and right(v, 2)::int < 60))
           then pg_temp.jour(left(v, 10)) end
$$;

-- A registration number as the registry compares them: separators removed, capitals.
create function pg_temp.num_immat(v text) returns text language sql immutable as $$
    select nullif(upper(regexp_replace(v, '[\s.-]', '', 'g')), '')
$$;
