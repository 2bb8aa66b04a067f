-- intermediate.tup_referentiel: the TUPs of the referential, one row per TUP and millésime.
--
-- Rule (CoproFF, docs/rules.md "Population du référentiel"): a TUP is in the referential when it
-- carries a copropriété of intermediate.coproff_base, i.e. a registration is matched to it or it
-- holds an FF-only copropriété (FF copropriété that no registration matched). The population is
-- built once, in intermediate.coproff_base. The TUP indicators (DVF, DV3F, LOVAC) count only these
-- TUPs.
-- Key: idtup.

with

coproff_base as (
    select idtup
    from intermediate.coproff_base
    where millesime = :millesime
),

-- TUPs of the referential: those carrying at least one copropriété
tup_in_referential as (
    select distinct idtup
    from coproff_base
    where idtup is not null
)

select
    -- ids
    idtup,
    cast(:millesime as smallint) as millesime
from tup_in_referential
