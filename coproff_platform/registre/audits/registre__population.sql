-- Blocking: coproff.registre has exactly one row per registered copropriété of coproff.coproff.
-- description: Une ligne de coproff.registre par copropriété immatriculée de coproff.coproff
select coalesce(c.idcopro, r.idcopro) as idcopro,
       case when r.idcopro is null then 'copropriété immatriculée absente' else 'ligne hors référentiel' end as motif
from (select idcopro from coproff.coproff where millesime = :m and num_immat is not null) c
full join (select idcopro from {table} where millesime = :m) r using (idcopro)
where c.idcopro is null or r.idcopro is null
