-- audit: copro_tup_counts_registrations
-- severity: blocking
-- threshold: none
-- description: copro_tup est le nombre de copropriétés immatriculées sur la TUP de la ligne (0 pour
--   une TUP des seuls Fichiers fonciers) et la situation concorde : rnic_1_1 pour 1, rnic_1_n pour
--   plus, rnic_unmatched sans TUP.
with referentiel as (
    select idcopro, idtup, situation, copro_tup, num_immat
    from coproff.coproff
    where millesime = :millesime
),

comptees as (
    select
        idcopro,
        idtup,
        situation,
        copro_tup,
        count(num_immat) over (partition by idtup) as immatriculations_sur_tup
    from referentiel
)

select
    idcopro,
    idtup,
    situation,
    copro_tup,
    case when idtup is null then 0 else immatriculations_sur_tup end as attendu
from comptees
-- without a TUP: unmatched and 0; with one: the count of registrations, 1-1 or 1-n accordingly
where (idtup is null and (coalesce(copro_tup, 0) <> 0 or situation is distinct from 'rnic_unmatched'))
   or (idtup is not null and (
          coalesce(copro_tup, 0) <> immatriculations_sur_tup
       or (situation = 'rnic_1_1' and immatriculations_sur_tup <> 1)
       or (situation = 'rnic_1_n' and immatriculations_sur_tup < 2)
       or situation = 'rnic_unmatched'))
order by idtup nulls first, idcopro
