-- intermediate.tup_referentiel: the TUPs of the referential, one row per TUP and millésime.
--
-- Rule (CoproFF, SOURCES.md §6): a TUP is in the referential when a registration is matched to
-- it (intermediate.tup_match) or when it holds an FF copropriété (intermediate.tup.copro_ff, an
-- FF-only copropriété when no registration matched). The TUP indicators (DVF, DV3F, LOVAC) count
-- only these TUPs.
-- Key: idtup.

with

tup_match as (
    select distinct idtup
    from intermediate.tup_match
    where millesime = :millesime and idtup is not null
),

tup as (
    select idtup, copro_ff
    from intermediate.tup
    where millesime = :millesime
),

-- TUPs of the referential: matched by a registration, or holding an FF copropriété
tup_in_referential as (
    select tup.idtup
    from tup
    left join tup_match on tup_match.idtup = tup.idtup
    where tup.copro_ff or tup_match.idtup is not null
)

select
    -- ids
    idtup,
    cast(:millesime as smallint) as millesime
from tup_in_referential
