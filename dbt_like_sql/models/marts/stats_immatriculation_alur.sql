-- coproff.stats_immatriculation_alur: registration rate against the deadlines of the loi ALUR
-- (art. 53), by size class (docs/rules.md "Statistiques").
--
-- Deadlines: ref.echeances_immatriculation (one per lot class), plus a last class 'Non renseigné'
-- for a copropriété without a size. Size: the registry's total number of lots for a registered copropriété; for an
-- FF-only copropriété, which has no declared lots, the number of FF locals of its TUP (nlocal).
-- Registered = every row with a registration number (matched or not).

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
    select num_immat, lots_total, nlocal
    from coproff.coproff
    where millesime = :millesime
),

echeances as (
    select ordre, classe, lots_min, lots_max, date_limite
    from ref.echeances_immatriculation
),

-- the legal classes, then one class for copropriétés without a size
classes as (
    select ordre, classe as classe_taille, lots_min, lots_max, date_limite as date_limite_immatriculation
    from echeances
    union all
    select
        (select max(ordre) + 1 from echeances) as ordre,
        'Non renseigné' as classe_taille,
        cast(null as integer) as lots_min,
        cast(null as integer) as lots_max,
        cast(null as date) as date_limite_immatriculation
),

-- the class of copropriétés without a size
non_renseigne as (
    select max(ordre) as ordre from classes
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
        coalesce(classes.ordre, non_renseigne.ordre) as ordre
    from sized
    cross join non_renseigne
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
    parcel_source.source_parcelles,
    cast(classes.ordre as smallint) as ordre,
    classes.classe_taille,
    -- legal deadline and whether it had passed at the RNIC export (September of the millésime)
    classes.date_limite_immatriculation,
    classes.date_limite_immatriculation < make_date(:millesime, 9, 30) as delai_echu,  -- export of 30/09
    -- counts and rate
    cast(coalesce(counts.nb_immatriculees, 0) as integer) as nb_immatriculees,
    cast(coalesce(counts.nb_ff_seules, 0) as integer) as nb_ff_seules,
    cast(coalesce(counts.nb_immatriculees, 0) + coalesce(counts.nb_ff_seules, 0) as integer) as nb_copro,
    round(cast(counts.nb_immatriculees as numeric)
          / nullif(counts.nb_immatriculees + counts.nb_ff_seules, 0), 4) as taux_immatriculation
from classes
left join counts on counts.ordre = classes.ordre
left join parcel_source on true
