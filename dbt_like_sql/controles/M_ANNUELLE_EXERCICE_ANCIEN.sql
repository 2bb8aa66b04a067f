-- M_ANNUELLE_EXERCICE_ANCIEN: an annual update on accounts closed more than two annual delays
-- (24 months) before its transmission (alert).
select cle, 'donnees_financieres/date_cloture_comptes' as champ, cloture::text as detail
from declaration_soumise
where type_mise_a_jour = 'annuelle' and a_donnees_financieres
  and transmission > cloture + interval '24 months'
