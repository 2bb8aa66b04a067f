-- coproff.stats_evolution: year-over-year change of the referential: copropriétés
-- new, gone, and whose situation changed, between the millésime and the previous published one.
--
-- Copropriétés are followed by idcopro. A registration that was FF-only the year before changes
-- idcopro (FF_ → RNC_): it counts as one gone and one new, as it does in CoproFF.
-- Without a previous millésime, the comparison columns are NULL.

with

-- the parcel source the millésime's TUPs were built from (ff or cadastre): one per millésime
-- (intermediate.tup: FF wins when both exist), so the first TUP says it
parcel_source as (
    select source_parcelles
    from intermediate.tup
    where millesime = :millesime
    limit 1
),

current_millesime as (
    select idcopro, situation
    from coproff.coproff
    where millesime = :millesime
),

previous_key as (
    select max(millesime) as millesime
    from coproff.coproff
    where millesime < :millesime
),

previous_millesime as (
    select coproff.idcopro, coproff.situation
    from coproff.coproff
    inner join previous_key on previous_key.millesime = coproff.millesime
),

compared as (
    select
        current_millesime.situation as situation,
        previous_millesime.situation as situation_precedente,
        current_millesime.idcopro is not null as presente,
        previous_millesime.idcopro is not null as presente_avant
    from current_millesime
    full join previous_millesime on previous_millesime.idcopro = current_millesime.idcopro
),

counted as (
    select
        count(*) filter (where presente) as nb_copro,
        count(*) filter (where presente_avant) as nb_copro_precedent,
        count(*) filter (where presente and not presente_avant) as nb_nouvelles,
        count(*) filter (where presente_avant and not presente) as nb_disparues,
        count(*) filter (where presente and presente_avant and situation <> situation_precedente) as nb_situation_changee,
        count(*) filter (where presente and presente_avant and situation = situation_precedente) as nb_inchangees
    from compared
)

select
    -- ids
    cast(:millesime as smallint) as millesime,
    parcel_source.source_parcelles,
    cast(previous_key.millesime as smallint) as millesime_precedent,
    -- counts (NULL when there is no previous millésime)
    cast(counted.nb_copro as integer) as nb_copro,
    cast(case when previous_key.millesime is not null then counted.nb_copro_precedent end as integer) as nb_copro_precedent,
    cast(case when previous_key.millesime is not null then counted.nb_nouvelles end as integer) as nb_nouvelles,
    cast(case when previous_key.millesime is not null then counted.nb_disparues end as integer) as nb_disparues,
    cast(case when previous_key.millesime is not null then counted.nb_situation_changee end as integer) as nb_situation_changee,
    cast(case when previous_key.millesime is not null then counted.nb_inchangees end as integer) as nb_inchangees
from counted
cross join previous_key
left join parcel_source on true
