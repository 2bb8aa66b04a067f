-- A_LOTS_HABITATION_BUREAUX: housing, office and shop lots above the total, or below the housing lots.
select cle, 'identification/nombre_lots_habitation_bureaux_commerces' as champ, lots_hbc::text as detail
from declaration_soumise
where lots_hbc > lots_total or lots_hbc < lots_habitation
