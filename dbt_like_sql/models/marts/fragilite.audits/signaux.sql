-- audit: signaux
-- severity: blocking
-- threshold: none
-- description: Score = somme des poids des signaux allumés (entre 0 et la somme des poids), complétude = poids
--   des signaux évaluables, un motif détaillé par signal allumé
-- Recomputed from the published signal_<code> columns and the weights of ref.signaux_fragilite
-- (NULL signal: not evaluable, counts neither in the score nor in the completeness).
with fragilite as (
    select *
    from coproff.fragilite
    where millesime = :millesime
),

signaux as (
    select code, cast(poids as integer) as poids
    from ref.signaux_fragilite
),

poids_total as (
    select sum(poids) as poids_total
    from signaux
),

-- each copropriété's signals read by name from its row (the row turned into JSON once)
valeurs as (
    select f.idcopro, s.poids, c.value::boolean as allume
    from fragilite f
    cross join lateral jsonb_each_text(to_jsonb(f)) c
    join signaux s on c.key = 'signal_' || s.code
),

attendu as (
    select idcopro,
           coalesce(sum(poids) filter (where allume), 0) as score,
           coalesce(sum(poids) filter (where allume is not null), 0) as poids_evalues,
           count(*) filter (where allume is not null) as nb_evalues,
           count(*) filter (where allume) as nb_allumes
    from valeurs
    group by idcopro
)

select f.idcopro, f.score, a.score as score_attendu, f.completude, f.nb_signaux_allumes,
       case when f.score is distinct from a.score then 'score différent de la somme des poids des signaux allumés'
            when f.score < 0 or f.score > t.poids_total then 'score hors bornes'
            when f.completude is distinct from round(a.poids_evalues::numeric / t.poids_total, 4)
                 then 'complétude différente du poids des signaux évaluables'
            when f.nb_signaux_evalues is distinct from a.nb_evalues then 'nombre de signaux évalués faux'
            when f.nb_signaux_allumes is distinct from a.nb_allumes
                 or cardinality(f.motifs) <> a.nb_allumes
                 or jsonb_array_length(f.motifs_detail) <> a.nb_allumes then 'motifs et signaux allumés différents'
            else 'complétude hors [0, 1]' end as motif
from fragilite f
join attendu a using (idcopro)
cross join poids_total t
where f.score is distinct from a.score
   or f.score < 0 or f.score > t.poids_total
   or f.completude is distinct from round(a.poids_evalues::numeric / t.poids_total, 4)
   or f.nb_signaux_evalues is distinct from a.nb_evalues
   or f.nb_signaux_allumes is distinct from a.nb_allumes
   or cardinality(f.motifs) <> a.nb_allumes
   or jsonb_array_length(f.motifs_detail) <> a.nb_allumes
   or f.completude not between 0 and 1
