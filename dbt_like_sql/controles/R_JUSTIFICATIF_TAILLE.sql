-- R_JUSTIFICATIF_TAILLE: the base 64 justificatif is longer than the parameter allows.
select cle, 'rattachement/justificatif' as champ,
       justificatif_caracteres || ' > ' || p.maximum || ' caractères' as detail
from declaration_soumise
cross join (select max(cast(valeur as bigint)) filter (where code = 'declaration_justificatif_caracteres_max') as maximum
            from ref.parametres) p
where justificatif_caracteres > p.maximum
