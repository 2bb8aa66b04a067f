-- audit: familles
-- severity: blocking
-- threshold: none
-- description: Famille cohérente avec le rang et les seuils de ref.familles_fragilite (la première sans signal
--   allumé), rang entre 0 et 1
-- The family is the highest of ref.familles_fragilite whose rang_min the rank reaches, or the
-- first family when the score is 0.
with fragilite as (
    select idcopro, famille, score, rang
    from coproff.fragilite
    where millesime = :millesime
),

familles_ref as (
    select code, cast(rang_min as numeric) as rang_min, ordre
    from ref.familles_fragilite
),

premiere as (
    select code
    from familles_ref
    order by ordre
    limit 1
),

-- one pass over the rows, no join of the table with itself: a self-join of a CTE has no
-- statistics, and a national build once spent over 3 min in this audit instead of ~1.5 s
attendu as (
    select f.idcopro, f.famille, f.score, f.rang,
           case when f.score = 0 then (select code from premiere)
                else (select r.code from familles_ref r where r.rang_min <= f.rang order by r.ordre desc limit 1) end
               as famille_attendue
    from fragilite f
)

select idcopro, famille, famille_attendue, score, rang,
       case when rang is null or rang not between 0 and 1 then 'rang hors [0, 1]'
            else 'famille incohérente avec le rang' end as motif
from attendu
where rang is null or rang not between 0 and 1
   or famille is distinct from famille_attendue
