-- audit: every_registration_once
-- severity: blocking
-- threshold: none
-- description: Chaque immatriculation chargée dans staging.rnic pour le millésime figure exactement
--   une fois dans le référentiel, qui n'en contient aucune autre.
with chargees as (
    select num_immat
    from staging.rnic
    where millesime = :millesime
),

publiees as (
    select num_immat, count(*) as nb
    from coproff.coproff
    where millesime = :millesime and num_immat is not null
    group by num_immat
)

select
    coalesce(s.num_immat, p.num_immat) as num_immat,
    coalesce(p.nb, 0) as nb_lignes,
    case
        when p.num_immat is null then 'absente du référentiel'
        when s.num_immat is null then 'absente de staging.rnic'
        else 'en plusieurs lignes'
    end as motif
from chargees as s
full join publiees as p on p.num_immat = s.num_immat
where p.num_immat is null or s.num_immat is null or p.nb <> 1
order by motif, num_immat
