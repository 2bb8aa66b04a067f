-- audit: familles
-- severity: blocking
-- threshold: none
-- description: Les familles de chaque territoire (département, région, France) s'additionnent à ses copropriétés
-- The families of each territory (département, region, France) add up to its copropriétés in
-- coproff.fragilite, shares to 1.
with territoires as (
    select niveau, code_territoire, sum(nb_copro) as nb, sum(part) as parts
    from coproff.stats_fragilite
    where millesime = :millesime
    group by niveau, code_territoire
),
attendu as (
    select 'departement' as niveau, coalesce(code_departement, 'inconnu') as code_territoire, count(*) as nb
    from coproff.fragilite where millesime = :millesime group by 2
    union all
    select 'region', coalesce(d.code_region, 'inconnu'), count(*)
    from coproff.fragilite f left join ref.departements d using (code_departement)
    where f.millesime = :millesime group by 2
    union all
    select 'france', 'france', count(*) from coproff.fragilite where millesime = :millesime
)
select coalesce(t.niveau, a.niveau) as niveau, coalesce(t.code_territoire, a.code_territoire) as code_territoire,
       t.nb as nb_stats, a.nb as nb_fragilite, t.parts
from territoires t
full join attendu a using (niveau, code_territoire)
where t.nb is distinct from a.nb or abs(t.parts - 1) > 0.001
