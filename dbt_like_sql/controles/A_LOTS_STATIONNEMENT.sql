-- A_LOTS_STATIONNEMENT: more parking lots than lots in all.
select cle, 'identification/nombre_lots_stationnement' as champ, lots_stationnement || ' > ' || lots_total as detail
from declaration_soumise
where lots_stationnement > lots_total
