-- Blocking: coproff.fragilite has exactly one row per copropriété of coproff.coproff.
-- description: Une ligne de coproff.fragilite par copropriété de coproff.coproff
select coalesce(c.idcopro, f.idcopro) as idcopro,
       case when f.idcopro is null then 'copropriété absente' else 'ligne hors référentiel' end as motif
from (select idcopro from coproff.coproff where millesime = :m) c
full join (select idcopro from {table} where millesime = :m) f using (idcopro)
where c.idcopro is null or f.idcopro is null
