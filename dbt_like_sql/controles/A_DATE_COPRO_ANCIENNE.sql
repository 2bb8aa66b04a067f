-- A_DATE_COPRO_ANCIENNE: a creation year before the parameter declaration_annee_min (alert).
select cle, 'identification/date_mise_en_copropriete' as champ, date_copro::text as detail
from declaration_soumise
cross join (select max(cast(valeur as integer)) filter (where code = 'declaration_annee_min') as annee_min
            from ref.parametres) p
where extract(year from date_copro) < p.annee_min
