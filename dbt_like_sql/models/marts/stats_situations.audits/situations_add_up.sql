-- audit: situations_add_up
-- severity: warning
-- threshold: none
-- description: La ligne France compte toutes les lignes de coproff.coproff ; dans chaque ligne les
--   quatre situations font le total ; départements, EPCI et communes font chacun le total France.
with stats as (
    select niveau, code_territoire, nb_copro, nb_rnic_1_1, nb_rnic_1_n, nb_ff_only, nb_rnic_unmatched
    from coproff.stats_situations
    where millesime = :millesime
),

referentiel as (
    select count(*) as nb_copro
    from coproff.coproff
    where millesime = :millesime
),

-- the France row counts the referential
france as (
    select 'france' as niveau, s.code_territoire, s.nb_copro as compte, r.nb_copro as attendu,
           'la ligne France ne compte pas coproff.coproff' as motif
    from stats as s
    cross join referentiel as r
    where s.niveau = 'france' and s.nb_copro is distinct from r.nb_copro
),

-- each row's situations add up to its total
lignes as (
    select niveau, code_territoire, nb_rnic_1_1 + nb_rnic_1_n + nb_ff_only + nb_rnic_unmatched as compte,
           nb_copro as attendu, 'les situations ne font pas le total de la ligne' as motif
    from stats
    where nb_rnic_1_1 + nb_rnic_1_n + nb_ff_only + nb_rnic_unmatched <> nb_copro
),

-- each level adds up to France
niveaux as (
    select s.niveau, null as code_territoire, sum(s.nb_copro) as compte, min(r.nb_copro) as attendu,
           'le niveau ne fait pas le total France' as motif
    from stats as s
    cross join referentiel as r
    where s.niveau <> 'france'
    group by s.niveau
    having sum(s.nb_copro) <> min(r.nb_copro)
),

-- no France row at all
sans_france as (
    select 'france' as niveau, null as code_territoire, null::bigint as compte, r.nb_copro as attendu,
           'pas de ligne France' as motif
    from referentiel as r
    where not exists (select 1 from stats where niveau = 'france')
)

select niveau, code_territoire, compte, attendu, motif from france
union all
select niveau, code_territoire, compte, attendu, motif from lignes
union all
select niveau, code_territoire, compte, attendu, motif from niveaux
union all
select niveau, code_territoire, compte, attendu, motif from sans_france
order by motif, niveau, code_territoire
