-- staging.declaration_procedure: block B of accepted declarations, one row per procedure.
with recues as (
    select * from declaration_acceptee where doc ? 'procedures'
),
-- arrêtés: one row per element of the list, main-levée NULL while in force
arretes as (
    select r.id_depot, r.num_immat, 'arrete' as procedure, e ->> 'type' as type_arrete,
           (e ->> 'date_arrete')::date as date_debut, (e ->> 'date_mainlevee')::date as date_fin,
           r.source_file, r.source_line
    from recues r
    cross join lateral jsonb_array_elements(coalesce(r.doc -> 'procedures' -> 'arretes', '[]'::jsonb)) e
),
-- mandat ad hoc: nomination and end of mission (NULL while in progress)
mandats_ad_hoc as (
    select r.id_depot, r.num_immat, 'mandat_ad_hoc', null::text,
           (r.doc -> 'procedures' -> 'mandat_ad_hoc' ->> 'date_ordonnance_nomination')::date,
           (r.doc -> 'procedures' -> 'mandat_ad_hoc' ->> 'date_fin_mission')::date,
           r.source_file, r.source_line
    from recues r
    where jsonb_typeof(r.doc -> 'procedures' -> 'mandat_ad_hoc') = 'object'
),
-- ordonnance de carence: a date, no end
carences as (
    select r.id_depot, r.num_immat, 'carence', null::text,
           (r.doc -> 'procedures' ->> 'date_ordonnance_carence')::date, null::date,
           r.source_file, r.source_line
    from recues r
    where r.doc -> 'procedures' ->> 'date_ordonnance_carence' is not null
),
procedures as (
    select * from arretes union all select * from mandats_ad_hoc union all select * from carences
)
select cast(:millesime as smallint) as millesime, id_depot, num_immat, procedure, type_arrete, date_debut,
       date_fin, source_file, source_line
from procedures
