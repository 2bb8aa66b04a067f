-- audit: alur_classes_add_up
-- severity: warning
-- threshold: none
-- description: Les copropriétés immatriculées et celles des seuls Fichiers fonciers, toutes classes
--   de taille réunies, font les effectifs de coproff.coproff.
with stats as (
    select sum(nb_immatriculees) as nb_immatriculees, sum(nb_ff_seules) as nb_ff_seules
    from coproff.stats_immatriculation_alur
    where millesime = :millesime
),

referentiel as (
    select
        count(*) filter (where num_immat is not null) as nb_immatriculees,
        count(*) filter (where num_immat is null) as nb_ff_seules
    from coproff.coproff
    where millesime = :millesime
)

select
    s.nb_immatriculees,
    r.nb_immatriculees as attendu_immatriculees,
    s.nb_ff_seules,
    r.nb_ff_seules as attendu_ff_seules
from stats as s
cross join referentiel as r
where s.nb_immatriculees is distinct from r.nb_immatriculees
   or s.nb_ff_seules is distinct from r.nb_ff_seules
