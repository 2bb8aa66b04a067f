-- audit: gap_classes_complete
-- severity: warning
-- threshold: none
-- description: Exactement les classes d'écart de ref.classes_ecart_logements, dans leur ordre, et
--   leurs effectifs font le nombre de copropriétés de coproff.coproff qui ont une classe.
with stats as (
    select ordre, classe, nb
    from coproff.stats_ecart_logements
    where millesime = :millesime
),

classes as (
    select ordre, libelle
    from ref.classes_ecart_logements
),

classees as (
    select count(*) as nb
    from coproff.coproff
    where millesime = :millesime and classe_ecart_logements is not null
),

-- the documented classes, each at its rank
ecarts_de_classes as (
    select coalesce(c.ordre, s.ordre) as ordre, s.classe as classe_publiee, c.libelle as classe_attendue,
           s.nb, null::bigint as attendu, 'classe absente, en trop ou mal placée' as motif
    from classes as c
    full join stats as s on s.ordre = c.ordre
    where s.classe is distinct from c.libelle
),

-- the classes count every classified copropriété
total as (
    select null::integer as ordre, null as classe_publiee, null as classe_attendue,
           (select sum(nb) from stats) as nb, k.nb as attendu,
           'le total des classes diffère des copropriétés classées' as motif
    from classees as k
    where (select sum(nb) from stats) is distinct from k.nb
)

select ordre, classe_publiee, classe_attendue, nb, attendu, motif from ecarts_de_classes
union all
select ordre, classe_publiee, classe_attendue, nb, attendu, motif from total
order by ordre nulls last
