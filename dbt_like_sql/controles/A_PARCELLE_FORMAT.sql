-- A_PARCELLE_FORMAT: a cadastral reference that is not a 14-character FF idpar.
select cle, 'identification/parcelles_cadastrales/' || i as champ, left(brute, 40) as detail
from declaration_soumise_parcelle
where idpar is null
