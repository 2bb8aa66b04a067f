-- D_IMPAYES_SANS_CHARGES: arrears declared without current charges.
select cle, 'donnees_financieres/montant_impayes' as champ, '' as detail
from declaration_soumise
where a_donnees_financieres and montant_impayes > 0 and charges_courantes = 0
