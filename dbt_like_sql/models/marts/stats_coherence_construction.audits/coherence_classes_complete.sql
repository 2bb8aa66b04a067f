-- audit: coherence_classes_complete
-- severity: warning
-- threshold: none
-- description: Les classes coherent, incoherent et non_comparable sont toutes présentes, une fois
--   chacune, et le taux parmi les copropriétés comparables fait 100 %.
with stats as (
    select coherence_construction, taux
    from coproff.stats_coherence_construction
    where millesime = :millesime
),

attendues as (
    select classe from (values ('coherent'), ('incoherent'), ('non_comparable')) as v (classe)
),

-- each class once, no other
classes as (
    select coalesce(a.classe, s.coherence_construction) as classe, count(s.coherence_construction) as nb_lignes,
           null::numeric as somme_taux, 'classe absente, en double ou inconnue' as motif
    from attendues as a
    full join stats as s on s.coherence_construction = a.classe
    group by coalesce(a.classe, s.coherence_construction), a.classe
    having count(s.coherence_construction) <> 1 or a.classe is null
),

-- coherent + incoherent = 1 among comparable rows
taux as (
    select 'coherent + incoherent' as classe, count(*) as nb_lignes, round(sum(taux), 4) as somme_taux,
           'les taux ne font pas 100 %' as motif
    from stats
    where coherence_construction <> 'non_comparable' and taux is not null
    having count(*) > 0 and abs(sum(taux) - 1) > 0.001
)

select classe, nb_lignes, somme_taux, motif from classes
union all
select classe, nb_lignes, somme_taux, motif from taux
order by classe
