-- D_IMPAYES_EXCESSIFS: arrears above the multiple declaration_impayes_charges_max of the year's
-- charges (current + exceptional) (alert).
select cle, 'donnees_financieres/montant_impayes' as champ, '' as detail
from declaration_soumise
cross join (select max(cast(valeur as float8)) filter (where code = 'declaration_impayes_charges_max') as facteur
            from ref.parametres) p
where a_donnees_financieres and charges_courantes + charges_exceptionnelles > 0
  and montant_impayes > p.facteur * (charges_courantes + charges_exceptionnelles)
