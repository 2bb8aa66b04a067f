-- coproff.stats_ecart_logements: gap between FF dwellings (nloghcopro) and RNIC dwelling lots
-- (lots_hab), in exactly the classes of the CoproFF documentation (issue 4 §3).
--
-- Population and classes: classe_ecart_logements of intermediate.synthese (the rule is written
-- there once) for the copropriétés published in coproff.coproff: registered copropriétés alone on
-- a TUP holding an FF copropriété.
-- part = share of the population; part_renseignes = share among rows where both values are
-- filled (the basis of the documented national figures: 48% no gap, 19% one dwelling, ...).

with

coproff as (
    select idcopro
    from coproff.coproff
    where millesime = :millesime
),

synthese as (
    select idcopro, classe_ecart_logements
    from intermediate.synthese
    where millesime = :millesime and classe_ecart_logements is not null
),

compared as (
    select synthese.classe_ecart_logements
    from synthese
    inner join coproff on coproff.idcopro = synthese.idcopro
),

classes as (
    select * from (values
        (1, 'Aucun écart'),
        (2, 'Ecart de 1 logement'),
        (3, 'Moins de 10%'),
        (4, 'Moins de 25%'),
        (5, 'Moins de 50%'),
        (6, 'Moins de 100%'),
        (7, '100% ou plus'),
        (8, 'Non renseigné')
    ) as c (ordre, classe)
),

counts as (
    select classe_ecart_logements as classe, count(*) as nb
    from compared
    group by classe_ecart_logements
),

totals as (
    select
        sum(nb) as nb_total,
        sum(nb) filter (where classe <> 'Non renseigné') as nb_renseignes
    from counts
)

select
    -- ids
    cast(:millesime as smallint) as millesime,
    cast(classes.ordre as smallint) as ordre,
    classes.classe,
    -- counts and shares
    cast(coalesce(counts.nb, 0) as integer) as nb,
    round(coalesce(counts.nb, 0) / nullif(totals.nb_total, 0), 4) as part,
    case when classes.classe <> 'Non renseigné'
         then round(coalesce(counts.nb, 0) / nullif(totals.nb_renseignes, 0), 4) end as part_renseignes
from classes
cross join totals
left join counts on counts.classe = classes.classe
