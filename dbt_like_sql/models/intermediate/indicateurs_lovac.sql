-- intermediate.indicateurs_lovac: vacant private dwellings (LOVAC) per TUP of the referential
-- (docs/rules.md "Indicateurs").
--
-- Rules: a dwelling is vacant when FF occupation ff_ccthp = 'V'; it is vacant for the long term
-- when its vacancy began more than ref.parametres.vacance_longue_ans years before the millésime
-- (N - debutvacance > vacance_longue_ans).
-- A dwelling attaches to the TUP of its parcel (ff_idpar). Counts of a TUP holding several
-- registrations are indicative (coproff.indicatif).
-- Key: idtup.

with

parametres as (
    select max(cast(valeur as integer)) filter (where code = 'vacance_longue_ans') as vacance_longue_ans
    from ref.parametres
),

lovac as (
    select ff_idlocal, ff_idpar, ff_ccthp, debutvacance
    from staging.lovac
    where millesime = :millesime
),

-- the parcels of the millésime's TUPs, whichever the parcel source (FF or open cadastre)
parcelle as (
    select idpar, idtup
    from intermediate.parcelle
    where millesime = :millesime
),

-- TUPs of the referential: matched by a registration, or holding an FF copropriété
tup_referentiel as (
    select idtup
    from intermediate.tup_referentiel
    where millesime = :millesime
),

vacant as (
    select parcelle.idtup, lovac.ff_idlocal, lovac.debutvacance
    from lovac
    inner join parcelle on parcelle.idpar = lovac.ff_idpar
    inner join tup_referentiel on tup_referentiel.idtup = parcelle.idtup
    where lovac.ff_ccthp = 'V'
)

select
    -- ids
    vacant.idtup,
    cast(:millesime as smallint) as millesime,
    -- counts
    cast(count(*) as integer) as nb_logements_vacants,
    cast(count(*) filter (where :millesime - vacant.debutvacance > parametres.vacance_longue_ans) as integer)
        as nb_logements_vacants_2ans
from vacant
cross join parametres
group by vacant.idtup
