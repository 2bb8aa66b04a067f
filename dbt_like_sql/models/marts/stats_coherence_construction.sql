-- coproff.stats_coherence_construction: coherence of the FF construction year (an_const) with
-- the RNIC construction period (p_constr) widened by ref.parametres.coherence_construction_marge_ans years on each side.
--
-- Classes: coherence_construction of intermediate.synthese (the rule is written there once) for
-- the registered copropriétés published in coproff.coproff alone on a TUP holding an FF
-- copropriété: coherent, incoherent, non_comparable (period unknown or no FF year).
-- taux = share among comparable rows (the documented national figure: ~70% coherent).

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
    select idcopro, coherence_construction
    from intermediate.synthese
    where millesime = :millesime and coherence_construction is not null
),

compared as (
    select synthese.coherence_construction
    from synthese
    inner join coproff on coproff.idcopro = synthese.idcopro
),

classes as (
    select * from (values
        (1, 'coherent'),
        (2, 'incoherent'),
        (3, 'non_comparable')
    ) as c (ordre, coherence_construction)
),

counts as (
    select coherence_construction, count(*) as nb
    from compared
    group by coherence_construction
),

totals as (
    select
        sum(nb) as nb_total,
        sum(nb) filter (where coherence_construction <> 'non_comparable') as nb_comparables
    from counts
)

select
    -- ids
    cast(:millesime as smallint) as millesime,
    parcel_source.source_parcelles,
    cast(classes.ordre as smallint) as ordre,
    classes.coherence_construction,
    -- counts and shares
    cast(coalesce(counts.nb, 0) as integer) as nb,
    round(coalesce(counts.nb, 0) / nullif(totals.nb_total, 0), 4) as part,
    case when classes.coherence_construction <> 'non_comparable'
         then round(coalesce(counts.nb, 0) / nullif(totals.nb_comparables, 0), 4) end as taux
from classes
cross join totals
left join counts on counts.coherence_construction = classes.coherence_construction
left join parcel_source on true
