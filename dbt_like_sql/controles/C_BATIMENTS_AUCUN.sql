-- C_BATIMENTS_AUCUN: no building in the breakdown by energy label (alert).
select s.cle, 'donnees_techniques/batiments_par_etiquette' as champ, '' as detail
from declaration_soumise s
left join (select cle, sum(nombre_batiments) as batiments from declaration_soumise_etiquette group by cle) e using (cle)
where s.a_donnees_techniques and coalesce(e.batiments, 0) = 0
