-- audit: idcopro_prefix_matches_registration
-- severity: blocking
-- threshold: none
-- description: Une ligne RNC_ est immatriculée (idcopro = 'RNC_' || num_immat, situation d'une
--   copropriété immatriculée) ; une ligne FF_ ne l'est pas (num_immat NULL, idcopro = 'FF_' ||
--   idtup, situation d'une copropriété des seuls Fichiers fonciers).
with referentiel as (
    select idcopro, num_immat, idtup, situation
    from coproff.coproff
    where millesime = :millesime
),

situations as (
    select code, immatriculee
    from ref.situations
)

select
    r.idcopro,
    r.num_immat,
    r.idtup,
    r.situation
from referentiel as r
left join situations as s on s.code = r.situation
-- a registered row is named after its registration, an FF-only row after its TUP
where not coalesce(
    (r.num_immat is not null and r.idcopro = 'RNC_' || r.num_immat and s.immatriculee)
    or (r.num_immat is null and r.idcopro = 'FF_' || r.idtup and not s.immatriculee),
    false
)
order by r.idcopro
