-- A_PRINCIPAL_MANQUANT: a secondary syndicate without the number of its main syndicate.
select cle, 'identification/numero_syndicat_principal' as champ, '' as detail
from declaration_soumise
where not syndicat_principal and coalesce(numero_syndicat_principal, '') = ''
