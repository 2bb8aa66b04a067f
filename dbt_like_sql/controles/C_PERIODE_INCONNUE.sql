-- C_PERIODE_INCONNUE: a construction period outside ref.periodes_construction.
select cle, 'donnees_techniques/periode_construction' as champ, left(periode_construction, 40) as detail
from declaration_soumise s
where a_donnees_techniques
  and not exists (select 1 from ref.periodes_construction p where p.code = s.periode_construction)
