-- audit: rang
-- severity: blocking
-- threshold: fragilite_stock_local_min
-- description: Rang = part du stock local (copropriétés aux données suffisantes du département, à défaut de la
--   région, à défaut de la France) au score strictement inférieur ; stock choisi selon fragilite_stock_local_min
-- Recomputed from the published rows: the stock sizes, the choice of the stock and the rank.
with fragilite as (
    select f.idcopro, f.score, f.rang, f.niveau_stock, f.code_stock, f.nb_stock, f.donnees_suffisantes,
           f.code_departement, d.code_region
    from coproff.fragilite f
    left join ref.departements d using (code_departement)
    where f.millesime = :millesime
),

parametres as (
    select max(cast(valeur as integer)) filter (where code = 'fragilite_stock_local_min') as stock_min
    from ref.parametres
),

stock as (
    select 'departement' as niveau, code_departement as code, score from fragilite
    where donnees_suffisantes and code_departement is not null
    union all
    select 'region', code_region, score from fragilite
    where donnees_suffisantes and code_region is not null
    union all
    select 'france', 'france', score from fragilite
    where donnees_suffisantes
),

-- the score distribution of each territory's stock (small: a few scores per territory)
distribution as (
    select niveau, code, score, count(*) as nb
    from stock
    group by niveau, code, score
),

taille as (
    select niveau, code, sum(nb) as nb
    from distribution
    group by niveau, code
),

choix as (
    select f.*,
           case when sd.nb >= p.stock_min then 'departement' when sr.nb >= p.stock_min then 'region' else 'france' end
               as niveau_attendu,
           case when sd.nb >= p.stock_min then f.code_departement when sr.nb >= p.stock_min then f.code_region
                else 'france' end as code_attendu
    from fragilite f
    cross join parametres p
    left join taille sd on sd.niveau = 'departement' and sd.code = f.code_departement
    left join taille sr on sr.niveau = 'region' and sr.code = f.code_region
),

-- per (stock, score): the stock's size and the count below
paires as (
    select distinct niveau_attendu, code_attendu, score
    from choix
),

-- a join and a group by, not a correlated subquery: the planner would run one per copropriété
rangs as (
    select p.niveau_attendu, p.code_attendu, p.score, coalesce(t.nb, 0) as nb_stock,
           round(coalesce(sum(d.nb) filter (where d.score < p.score)::numeric / nullif(t.nb, 0), 0), 4) as rang
    from paires p
    left join taille t on t.niveau = p.niveau_attendu and t.code = p.code_attendu
    left join distribution d on d.niveau = p.niveau_attendu and d.code = p.code_attendu
    group by p.niveau_attendu, p.code_attendu, p.score, t.nb
)

select c.idcopro, c.niveau_stock, c.niveau_attendu, c.code_stock, c.code_attendu, c.nb_stock, r.nb_stock as nb_attendu,
       c.rang, r.rang as rang_attendu,
       case when (c.niveau_stock, c.code_stock) is distinct from (c.niveau_attendu, c.code_attendu) then 'stock local mal choisi'
            when c.nb_stock is distinct from r.nb_stock then 'taille du stock fausse'
            else 'rang faux' end as motif
from choix c
join rangs r using (niveau_attendu, code_attendu, score)
where (c.niveau_stock, c.code_stock) is distinct from (c.niveau_attendu, c.code_attendu)
   or c.nb_stock is distinct from r.nb_stock
   or c.rang is distinct from r.rang
