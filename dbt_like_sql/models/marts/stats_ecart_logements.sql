-- coproff.stats_ecart_logements: gap between FF dwellings (nloghcopro) and RNIC dwelling lots
-- (lots_hab), in exactly the classes of the CoproFF documentation (ref.classes_ecart_logements,
-- docs/rules.md "Règles de cohérence").
--
-- Population and classes: classe_ecart_logements of intermediate.synthese (the rule is written
-- there once) for the copropriétés published in coproff.coproff: registered copropriétés alone on
-- a TUP holding an FF copropriété.
-- part = share of the population; part_renseignes = share among rows where both values are
-- filled (the basis of the documented national figures: 48% no gap, 19% one dwelling, ...).

with

-- the parcel source the millésime's TUPs were built from (ff or cadastre): one per millésime
-- (intermediate.tup: FF wins when both exist), so the first TUP says it
parcel_source as (
    select source_parcelles
    from intermediate.tup
    where millesime = :millesime
    limit 1
),

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

-- the classes, in their documented order; 'non_renseigne' (a count missing) stays out of the shares
-- among filled rows
classes as (
    select ordre, libelle as classe, code <> 'non_renseigne' as renseigne
    from ref.classes_ecart_logements
),

counts as (
    select classe_ecart_logements as classe, count(*) as nb
    from compared
    group by classe_ecart_logements
),

totals as (
    select
        sum(counts.nb) as nb_total,
        sum(counts.nb) filter (where classes.renseigne) as nb_renseignes
    from counts
    left join classes on classes.classe = counts.classe
)

select
    -- ids
    cast(:millesime as smallint) as millesime,
    parcel_source.source_parcelles,
    cast(classes.ordre as smallint) as ordre,
    classes.classe,
    -- counts and shares
    cast(coalesce(counts.nb, 0) as integer) as nb,
    round(coalesce(counts.nb, 0) / nullif(totals.nb_total, 0), 4) as part,
    case when classes.renseigne
         then round(coalesce(counts.nb, 0) / nullif(totals.nb_renseignes, 0), 4) end as part_renseignes
from classes
cross join totals
left join counts on counts.classe = classes.classe
left join parcel_source on true
