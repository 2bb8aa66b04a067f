-- A_LOTS_HABITATION: more housing lots than lots in all.
select cle, 'identification/nombre_lots_habitation' as champ, lots_habitation || ' > ' || lots_total as detail
from declaration_soumise
where lots_habitation > lots_total
