-- A_PARCELLE_DOUBLON: the same parcel declared twice (alert).
select cle, 'identification/parcelles_cadastrales' as champ, '' as detail
from declaration_soumise_parcelle
group by cle
having count(idpar) > count(distinct idpar)
