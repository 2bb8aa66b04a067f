-- coproff.stats_immatriculation_alur: registration rate against the deadlines of the loi ALUR
-- (art. 53), by size class (issue 4 §3).
--
-- Deadlines: more than 200 lots by 31/12/2016, 51 to 200 lots by 31/12/2017, 50 lots or fewer by
-- 31/12/2018. Size: the registry's total number of lots for a registered copropriété; for an
-- FF-only copropriété, which has no declared lots, the number of FF locals of its TUP (nlocal).
-- Registered = every row with a registration number (matched or not).

with

coproff as (
    select num_immat, lots_total, nlocal
    from coproff.coproff
    where millesime = :millesime
),

classes as (
    select * from (values
        (1, '> 200 lots', 201, cast(null as integer), date '2016-12-31'),
        (2, '51 à 200 lots', 51, 200, date '2017-12-31'),
        (3, '≤ 50 lots', 0, 50, date '2018-12-31'),
        (4, 'Non renseigné', cast(null as integer), cast(null as integer), cast(null as date))
    ) as c (ordre, classe_taille, lots_min, lots_max, date_limite_immatriculation)
),

sized as (
    select
        num_immat is not null as immatriculee,
        case when num_immat is not null then lots_total else nlocal end as taille
    from coproff
),

classified as (
    select
        sized.immatriculee,
        coalesce(classes.ordre, 4) as ordre
    from sized
    left join classes
        on sized.taille >= classes.lots_min
       and (classes.lots_max is null or sized.taille <= classes.lots_max)
),

counts as (
    select
        ordre,
        count(*) filter (where immatriculee) as nb_immatriculees,
        count(*) filter (where not immatriculee) as nb_ff_seules
    from classified
    group by ordre
)

select
    -- ids
    cast(:millesime as smallint) as millesime,
    cast(classes.ordre as smallint) as ordre,
    classes.classe_taille,
    -- legal deadline and whether it had passed at the RNIC export (September of the millésime)
    classes.date_limite_immatriculation,
    classes.date_limite_immatriculation < make_date(:millesime, 9, 30) as delai_echu,
    -- counts and rate
    cast(coalesce(counts.nb_immatriculees, 0) as integer) as nb_immatriculees,
    cast(coalesce(counts.nb_ff_seules, 0) as integer) as nb_ff_seules,
    cast(coalesce(counts.nb_immatriculees, 0) + coalesce(counts.nb_ff_seules, 0) as integer) as nb_copro,
    round(cast(counts.nb_immatriculees as numeric)
          / nullif(counts.nb_immatriculees + counts.nb_ff_seules, 0), 4) as taux_immatriculation
from classes
left join counts on counts.ordre = classes.ordre
