-- staging.declaration_technique: block C of accepted declarations, from the values the controls
-- typed (`declaration_soumise`, `declaration_soumise_etiquette`).
with etiquettes as (
    select code, passoire from ref.etiquettes_dpe
),
-- buildings by energy label, per declaration: the list as an object, its total and the "passoire" count
par_etiquette as (
    select e.cle,
           jsonb_object_agg(e.etiquette, e.nombre_batiments::integer) as par_etiquette,
           sum(e.nombre_batiments::integer) as nb_batiments,
           coalesce(sum(e.nombre_batiments::integer) filter (where et.passoire), 0) as nb_passoires
    from declaration_soumise_etiquette e
    left join etiquettes et on et.code = e.etiquette
    group by e.cle
)
select
    cast(:millesime as smallint) as millesime, r.id_depot, r.num_immat,
    s.periode_construction,
    coalesce(b.nb_batiments, 0)::integer as nb_batiments,
    coalesce(b.par_etiquette, '{}'::jsonb) as batiments_etiquette,
    coalesce(b.nb_passoires, 0)::integer as nb_batiments_passoires,
    s.chauffage_type,
    s.chauffage_urbain,
    s.chauffage_energie,
    s.nb_ascenseurs::integer as nb_ascenseurs,
    r.source_file, r.source_line
from declaration_acceptee r
join declaration_soumise s using (cle)
left join par_etiquette b using (cle)
where s.technique_objet
