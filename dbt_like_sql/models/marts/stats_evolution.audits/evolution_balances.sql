-- audit: evolution_balances
-- severity: warning
-- threshold: none
-- description: Une seule ligne ; elle compte coproff.coproff ; précédent + nouvelles - disparues =
--   courant ; nouvelles + inchangées + situation changée = courant.
with stats as (
    select millesime, millesime_precedent, nb_copro, nb_copro_precedent, nb_nouvelles, nb_disparues,
           nb_situation_changee, nb_inchangees
    from coproff.stats_evolution
    where millesime = :millesime
),

referentiel as (
    select count(*) as nb_copro
    from coproff.coproff
    where millesime = :millesime
),

controles as (
    select 'une seule ligne' as regle, (select count(*) from stats) = 1 as respectee
    union all
    select 'nb_copro = lignes de coproff.coproff',
           coalesce(bool_and(s.nb_copro = r.nb_copro), true)
    from stats as s cross join referentiel as r
    union all
    select 'précédent + nouvelles - disparues = courant',
           coalesce(bool_and(nb_copro_precedent + nb_nouvelles - nb_disparues = nb_copro), true)
    from stats where millesime_precedent is not null
    union all
    select 'nouvelles + inchangées + situation changée = courant',
           coalesce(bool_and(nb_nouvelles + nb_inchangees + nb_situation_changee = nb_copro), true)
    from stats where millesime_precedent is not null
)

select regle
from controles
where not respectee
order by regle
