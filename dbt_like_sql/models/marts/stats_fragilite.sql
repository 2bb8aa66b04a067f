-- coproff.stats_fragilite: copropriétés by fragility family, per département, region and for France,
-- with the number of each signal on. Rules (docs/registre.md): the families of coproff.fragilite add
-- up to the copropriétés of the territory; shares are of the territory's copropriétés; a
-- copropriété without a known département (or region) is counted under 'inconnu'.
with

-- the parcel source the millésime's TUPs were built from (ff or cadastre): one per millésime
-- (intermediate.tup: FF wins when both exist), so the first TUP says it
parcel_source as (
    select source_parcelles
    from intermediate.tup
    where millesime = :millesime
    limit 1
),

departements as (
    select code_departement, code_region
    from ref.departements
),

-- a copropriété without a département (no commune code) is counted under 'inconnu'
fragilite as (
    select coalesce(f.code_departement, 'inconnu') as code_departement, coalesce(d.code_region, 'inconnu') as code_region,
           famille, score, indicatif, immatriculee, donnees_suffisantes,
           niveau_stock <> 'departement' as stock_repli, signal_impayes, signal_dettes_fournisseurs,
           signal_fonds_travaux, signal_sans_syndic, signal_sans_maj_annuelle, signal_procedure,
           signal_passoires, signal_construction_ancienne, signal_vacance_longue, signal_prix_bas
    from coproff.fragilite f
    left join departements d using (code_departement)
    where millesime = :millesime
),

-- every family of each territory, even when empty
familles as (
    select code as famille
    from ref.familles_fragilite
),

territoires as (
    select 'departement' as niveau, code_departement as code_territoire, fragilite.*
    from fragilite
    union all
    select 'region', code_region, fragilite.*
    from fragilite
    union all
    select 'france', 'france', fragilite.*
    from fragilite
),

grille as (
    select distinct t.niveau, t.code_territoire, f.famille
    from territoires t
    cross join familles f
),

comptes as (
    select niveau, code_territoire, famille,
           count(*) as nb_copro,
           count(*) filter (where indicatif) as nb_indicatif,
           count(*) filter (where immatriculee) as nb_immatriculees,
           count(*) filter (where donnees_suffisantes) as nb_donnees_suffisantes,
           count(*) filter (where stock_repli) as nb_stock_repli,
           round(avg(score), 2) as score_moyen,
           count(*) filter (where signal_impayes) as nb_signal_impayes,
           count(*) filter (where signal_dettes_fournisseurs) as nb_signal_dettes_fournisseurs,
           count(*) filter (where signal_fonds_travaux) as nb_signal_fonds_travaux,
           count(*) filter (where signal_sans_syndic) as nb_signal_sans_syndic,
           count(*) filter (where signal_sans_maj_annuelle) as nb_signal_sans_maj_annuelle,
           count(*) filter (where signal_procedure) as nb_signal_procedure,
           count(*) filter (where signal_passoires) as nb_signal_passoires,
           count(*) filter (where signal_construction_ancienne) as nb_signal_construction_ancienne,
           count(*) filter (where signal_vacance_longue) as nb_signal_vacance_longue,
           count(*) filter (where signal_prix_bas) as nb_signal_prix_bas
    from territoires
    group by niveau, code_territoire, famille
),

totaux as (
    select niveau, code_territoire, count(*) as nb_territoire
    from territoires
    group by niveau, code_territoire
)

select
    cast(:millesime as smallint) as millesime,
    parcel_source.source_parcelles,
    g.niveau,
    g.code_territoire,
    g.famille,
    coalesce(c.nb_copro, 0)::integer as nb_copro,
    round(coalesce(c.nb_copro, 0)::numeric / t.nb_territoire, 4) as part,
    coalesce(c.nb_indicatif, 0)::integer as nb_indicatif,
    coalesce(c.nb_immatriculees, 0)::integer as nb_immatriculees,
    coalesce(c.nb_donnees_suffisantes, 0)::integer as nb_donnees_suffisantes,
    coalesce(c.nb_stock_repli, 0)::integer as nb_stock_repli,
    c.score_moyen,
    coalesce(c.nb_signal_impayes, 0)::integer as nb_signal_impayes,
    coalesce(c.nb_signal_dettes_fournisseurs, 0)::integer as nb_signal_dettes_fournisseurs,
    coalesce(c.nb_signal_fonds_travaux, 0)::integer as nb_signal_fonds_travaux,
    coalesce(c.nb_signal_sans_syndic, 0)::integer as nb_signal_sans_syndic,
    coalesce(c.nb_signal_sans_maj_annuelle, 0)::integer as nb_signal_sans_maj_annuelle,
    coalesce(c.nb_signal_procedure, 0)::integer as nb_signal_procedure,
    coalesce(c.nb_signal_passoires, 0)::integer as nb_signal_passoires,
    coalesce(c.nb_signal_construction_ancienne, 0)::integer as nb_signal_construction_ancienne,
    coalesce(c.nb_signal_vacance_longue, 0)::integer as nb_signal_vacance_longue,
    coalesce(c.nb_signal_prix_bas, 0)::integer as nb_signal_prix_bas
from grille g
join totaux t using (niveau, code_territoire)
left join comptes c using (niveau, code_territoire, famille)
left join parcel_source on true
