-- audit: population
-- severity: blocking
-- threshold: none
-- description: Une ligne de coproff.fragilite par copropriété de coproff.coproff
-- coproff.fragilite has exactly one row per copropriété of coproff.coproff.
select coalesce(c.idcopro, f.idcopro) as idcopro,
       case when f.idcopro is null then 'copropriété absente' else 'ligne hors référentiel' end as motif
from (select idcopro from coproff.coproff where millesime = :millesime) c
full join (select idcopro from coproff.fragilite where millesime = :millesime) f using (idcopro)
where c.idcopro is null or f.idcopro is null
