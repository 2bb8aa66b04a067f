-- coproff.appariement: the published matching of registrations to TUPs (intermediate.tup_match),
-- one row per registration, with the step that matched it and the reason code.

with

tup_match as (
    select *
    from intermediate.tup_match
    where millesime = :millesime
)

select
    -- ids
    num_immat,
    millesime,
    idtup,
    -- how and why
    methode,
    motif,
    nb_candidats,
    distance_m
from tup_match
