-- A_DATE_INEXISTANTE: a date of blocks A, B or D that the calendar does not have (2023-02-30).
select cle, champ, brute as detail
from declaration_soumise
cross join lateral (values
    ('identification/date_mise_en_copropriete', date_copro_brute, date_copro),
    ('procedures/mandat_ad_hoc/date_ordonnance_nomination', nomination_brute, nomination),
    ('procedures/mandat_ad_hoc/date_fin_mission', fin_mission_brute, fin_mission),
    ('procedures/date_ordonnance_carence', carence_brute, carence),
    ('donnees_financieres/date_ag_approbation_comptes', ag_brute, ag),
    ('donnees_financieres/date_cloture_comptes', cloture_brute, cloture)) v(champ, brute, jour)
where brute is not null and jour is null
union all
select cle, 'procedures/arretes/' || i || '/' || v.nom, v.brute
from declaration_soumise_arrete
cross join lateral (values ('date_arrete', date_arrete_brute, date_arrete),
                           ('date_mainlevee', mainlevee_brute, mainlevee)) v(nom, brute, jour)
where v.brute is not null and v.jour is null
