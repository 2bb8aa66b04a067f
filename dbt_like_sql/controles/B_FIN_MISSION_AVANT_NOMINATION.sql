-- B_FIN_MISSION_AVANT_NOMINATION: a mandat ad hoc whose mission ends before the ordonnance naming it.
select cle, 'procedures/mandat_ad_hoc/date_fin_mission' as champ, fin_mission || ' < ' || nomination as detail
from declaration_soumise
where a_mandat_ad_hoc and fin_mission < nomination
