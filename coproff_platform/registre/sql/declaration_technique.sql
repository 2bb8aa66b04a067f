-- staging.declaration_technique: block C of accepted declarations.
with recues as (
    select * from declaration_acceptee where jsonb_typeof(doc -> 'donnees_techniques') = 'object'
),
etiquettes as (
    select code, passoire from ref.etiquettes_dpe
)
select
    cast(:millesime as smallint) as millesime, r.id_depot, r.num_immat,
    c ->> 'periode_construction' as periode_construction,
    b.nb_batiments::integer as nb_batiments,
    coalesce(b.par_etiquette, '{}'::jsonb) as batiments_etiquette,
    b.nb_passoires::integer as nb_batiments_passoires,
    c -> 'chauffage' ->> 'type' as chauffage_type,
    (c -> 'chauffage' ->> 'urbain')::boolean as chauffage_urbain,
    c -> 'chauffage' ->> 'energie' as chauffage_energie,
    (c ->> 'nombre_ascenseurs')::integer as nb_ascenseurs,
    r.source_file, r.source_line
from recues r
cross join lateral (select r.doc -> 'donnees_techniques' as c) tech
-- buildings by energy label, per declaration: the list as an object, its total and the "passoire" count
cross join lateral (
    select jsonb_object_agg(e ->> 'etiquette', (e ->> 'nombre_batiments')::integer) as par_etiquette,
           coalesce(sum((e ->> 'nombre_batiments')::integer), 0) as nb_batiments,
           coalesce(sum((e ->> 'nombre_batiments')::integer) filter (where et.passoire), 0) as nb_passoires
    from jsonb_array_elements(c -> 'batiments_par_etiquette') e
    left join etiquettes et on et.code = e ->> 'etiquette'
) b
