-- C_ETIQUETTE_DOUBLON: the same energy label listed twice.
select cle, 'donnees_techniques/batiments_par_etiquette' as champ, '' as detail
from declaration_soumise_etiquette
group by cle
having count(etiquette) > count(distinct etiquette)
