-- D_AG_FUTURE: the general assembly comes after the transmission.
select cle, 'donnees_financieres/date_ag_approbation_comptes' as champ, ag::text as detail
from declaration_soumise
where a_donnees_financieres and ag > transmission
