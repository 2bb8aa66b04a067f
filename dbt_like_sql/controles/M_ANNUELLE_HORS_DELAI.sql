-- M_ANNUELLE_HORS_DELAI: an annual update transmitted later than maj_annuelle_delai_mois after
-- the general assembly (alert).
select cle, 'date_transmission' as champ, 'AG du ' || ag || ', transmise le ' || transmission as detail
from declaration_soumise
cross join (select max(cast(valeur as integer)) filter (where code = 'maj_annuelle_delai_mois') as mois
            from ref.parametres) p
where type_mise_a_jour = 'annuelle' and a_donnees_financieres
  and transmission > ag + make_interval(months => p.mois)
