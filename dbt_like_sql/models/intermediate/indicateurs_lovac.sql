-- intermediate.indicateurs_lovac: vacant private dwellings (LOVAC) per TUP of the referential
-- (issue 4 §1).
--
-- Rules: a dwelling is vacant when FF occupation ff_ccthp = 'V'; it is vacant for more than two
-- years when its vacancy began more than two years before the millésime (N - debutvacance > 2).
-- A dwelling attaches to the TUP of its parcel (ff_idpar). Counts of a TUP holding several
-- registrations are indicative (coproff.indicatif).
-- Key: idtup.

with

lovac as (
    select ff_idlocal, ff_idpar, ff_ccthp, debutvacance
    from staging.lovac
    where millesime = :millesime
),

ff_parcelle as (
    select idpar, idtup
    from staging.ff_parcelle
    where millesime = :millesime
),

-- TUPs of the referential: matched by a registration, or holding an FF copropriété
tup_referentiel as (
    select idtup
    from intermediate.tup_referentiel
    where millesime = :millesime
),

vacant as (
    select ff_parcelle.idtup, lovac.ff_idlocal, lovac.debutvacance
    from lovac
    inner join ff_parcelle on ff_parcelle.idpar = lovac.ff_idpar
    inner join tup_referentiel on tup_referentiel.idtup = ff_parcelle.idtup
    where lovac.ff_ccthp = 'V'
)

select
    -- ids
    idtup,
    cast(:millesime as smallint) as millesime,
    -- counts
    cast(count(*) as integer) as nb_logements_vacants,
    cast(count(*) filter (where :millesime - debutvacance > 2) as integer) as nb_logements_vacants_2ans
from vacant
group by idtup
