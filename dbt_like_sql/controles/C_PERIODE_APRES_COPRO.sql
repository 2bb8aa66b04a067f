-- C_PERIODE_APRES_COPRO: a construction period starting after the copropriété was created (alert).
select s.cle, 'donnees_techniques/periode_construction' as champ, s.periode_construction || ' après ' || s.date_copro as detail
from declaration_soumise s
join ref.periodes_construction p on p.code = s.periode_construction
where s.a_donnees_techniques and p.annee_min > extract(year from s.date_copro)
