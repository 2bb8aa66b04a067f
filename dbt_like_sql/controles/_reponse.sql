-- The registry's answer to each declaration read (`declaration_lue`), from the failed controls
-- (`echec`: the schema's, from the loader, and the business controls'): rejected when one
-- blocking control failed; the alerts of an accepted declaration, sorted.
create temporary table reponse on commit drop as
select l.cle,
       case when bool_or(c.niveau = 'bloquant') then 'rejetee' else 'acceptee' end as statut,
       coalesce(array_agg(distinct e.code order by e.code) filter (where e.code is not null), '{}') as codes
from declaration_lue l
left join echec e on e.cle = l.cle
left join ref.controles_declaration c on c.code = e.code
group by l.cle;

create unique index on reponse (cle);
analyze reponse
