-- D_CLOTURE_APRES_AG: the general assembly approving the accounts comes before the year's closing.
select cle, 'donnees_financieres/date_ag_approbation_comptes' as champ, ag || ' < ' || cloture as detail
from declaration_soumise
where a_donnees_financieres and ag < cloture
