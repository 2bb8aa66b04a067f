-- audit: no_sudden_change_from_previous_millesime
-- severity: warning
-- threshold: variation_max, variation_effectif_min
-- description: Effectifs (total et par situation) comparés au millésime publié précédent : une
--   variation relative au-delà de variation_max sur un effectif d'au moins variation_effectif_min
--   lignes (ref.parametres) est signalée ; une ligne de synthèse liste les effectifs signalés.
--   Rien n'est signalé sans millésime précédent.
with precedent as (
    select max(millesime) as millesime
    from coproff.coproff
    where millesime < :millesime
),

lignes as (
    select c.millesime = :millesime as courant, coalesce(c.situation, '(NULL)') as situation
    from coproff.coproff as c
    where c.millesime = :millesime or c.millesime = (select millesime from precedent)
),

par_situation as (
    select situation, count(*) filter (where not courant) as avant, count(*) filter (where courant) as apres
    from lignes
    group by situation
    union all
    select 'total', count(*) filter (where not courant), count(*) filter (where courant)
    from lignes
),

parametres as (
    select
        (select valeur::numeric from ref.parametres where code = 'variation_max') as variation_max,
        (select valeur::integer from ref.parametres where code = 'variation_effectif_min') as effectif_min
),

-- a count too small is noise; a count appearing from 0 is a change
variations as (
    select
        v.situation,
        v.avant,
        v.apres,
        round((v.apres - v.avant)::numeric / nullif(v.avant, 0), 4) as variation,
        greatest(v.avant, v.apres) >= p.effectif_min as jugee,
        p.variation_max
    from par_situation as v
    cross join parametres as p
),

signalees as (
    select v.*
    from variations as v
    where (select millesime from precedent) is not null
      and v.jugee
      and (v.variation is null or abs(v.variation) > v.variation_max)
)

-- one summary row when a count changed too much: which, from what to what
select
    (select millesime from precedent) as millesime_precedent,
    count(*) as nb_effectifs_signales,
    string_agg(
        situation || ' : ' || avant || ' → ' || apres
        || coalesce(' (' || to_char(variation * 100, 'FMSG990.0') || ' %)', ' (nouveau)'),
        ' ; ' order by situation = 'total' desc, situation
    ) as effectifs_signales,
    min(variation_max) as variation_max
from signalees
having count(*) > 0
