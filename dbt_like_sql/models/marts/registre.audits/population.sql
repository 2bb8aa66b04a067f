-- audit: population
-- severity: blocking
-- threshold: none
-- description: Une ligne de coproff.registre par copropriété immatriculée de coproff.coproff
-- coproff.registre has exactly one row per registered copropriété of coproff.coproff.
select coalesce(c.idcopro, r.idcopro) as idcopro,
       case when r.idcopro is null then 'copropriété immatriculée absente' else 'ligne hors référentiel' end as motif
from (select idcopro from coproff.coproff where millesime = :millesime and num_immat is not null) c
full join (select idcopro from coproff.registre where millesime = :millesime) r using (idcopro)
where c.idcopro is null or r.idcopro is null
