-- staging.declaration_procedure: block B of accepted declarations, one row per procedure, from
-- the values the controls typed (`declaration_soumise`, `declaration_soumise_arrete`).
with recues as (
    select r.cle, r.id_depot, r.num_immat, r.source_file, r.source_line
    from declaration_acceptee r
),
-- arrêtés: one row per element of the list, main-levée NULL while in force
arretes as (
    select r.id_depot, r.num_immat, 'arrete' as procedure, a.type_arrete,
           a.date_arrete as date_debut, a.mainlevee as date_fin, r.source_file, r.source_line
    from recues r
    join declaration_soumise_arrete a using (cle)
),
-- mandat ad hoc: nomination and end of mission (NULL while in progress)
mandats_ad_hoc as (
    select r.id_depot, r.num_immat, 'mandat_ad_hoc', null::text, s.nomination, s.fin_mission,
           r.source_file, r.source_line
    from recues r
    join declaration_soumise s using (cle)
    where s.mandat_objet
),
-- ordonnance de carence: a date, no end
carences as (
    select r.id_depot, r.num_immat, 'carence', null::text, s.carence, null::date, r.source_file, r.source_line
    from recues r
    join declaration_soumise s using (cle)
    where s.carence_brute is not null
),
procedures as (
    select * from arretes union all select * from mandats_ad_hoc union all select * from carences
)
select cast(:millesime as smallint) as millesime, id_depot, num_immat, procedure, type_arrete, date_debut,
       date_fin, source_file, source_line
from procedures
