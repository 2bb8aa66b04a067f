-- coproff.fragilite: transparent fragility signals of each copropriété of the referential, a
-- weighted score and a family A-D relative to the local stock of copropriétés (the ANAH/DGALN
-- targeting tool's approach). Rules (docs/registre.md), each threshold a row of ref.parametres,
-- each signal and its weight a row of ref.signaux_fragilite:
--   * financial (registry, last declared exercise): impayés / charges, supplier debts / charges,
--     fonds de travaux / charges;
--   * functioning: no syndic mandate in force (RNIC, ref.mandats), annual update missing or overdue,
--     a procedure in force (arrêté, mandat ad hoc, administration provisoire, carence);
--   * building: share of F/G buildings declared (else of the TUP's DPE), construction year;
--   * market: long-term vacancy share (LOVAC), price per m² relative to the commune's median (DVF);
--   * a signal whose data is missing is NULL (not evaluable), never "off";
--   * score = Σ poids of the signals on; completude = Σ poids of the evaluable signals / Σ poids;
--   * local stock = the copropriétés with completude >= fragilite_completude_min of the
--     département, else of the region (ref.departements), else of France, the first holding at
--     least fragilite_stock_local_min of them;
--   * rang = share of the local stock with a strictly lower score; family A when the score is 0,
--     else the highest family of ref.familles_fragilite whose rang_min the rank reaches;
--   * indicatif when a TUP-level signal is on and the TUP holds several copropriétés.
with

parametres as (
    select
        max(cast(valeur as numeric)) filter (where code = 'fragilite_impayes_part_min') as impayes_min,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_dettes_fournisseurs_part_min') as dettes_min,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_fonds_travaux_part_max') as fonds_max,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_passoires_part_min') as passoires_min,
        max(cast(valeur as integer)) filter (where code = 'fragilite_construction_annee_max') as construction_max,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_vacance_longue_part_min') as vacance_min,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_prix_m2_rapport_max') as prix_max,
        max(cast(valeur as integer)) filter (where code = 'maj_annuelle_retard_mois') as retard_mois,
        max(cast(valeur as integer)) filter (where code = 'fragilite_stock_local_min') as stock_min,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_completude_min') as completude_min
    from ref.parametres
),

copros as (
    select idcopro, num_immat, code_commune, code_departement, indicatif, mandat, annee_construction,
           periode_construction, part_dpe_fg, prix_m2_median, nb_logements, nb_logements_vacants_2ans
    from coproff.coproff
    where millesime = :millesime
),

registre as (
    select idcopro, nb_declarations, maj_annuelle_en_retard, nb_arretes_en_cours, mandat_ad_hoc_en_cours, carence,
           administration_provisoire, periode_construction_declaree, nb_batiments, nb_batiments_passoires,
           charges_courantes, charges_exceptionnelles, montant_impayes, dettes_fournisseurs, fonds_travaux
    from coproff.registre
    where millesime = :millesime
),

mandats as (
    select libelle, en_cours
    from ref.mandats
),

periodes as (
    select code, cast(annee_max as integer) as annee_max
    from ref.periodes_construction
),

departements as (
    select code_departement, code_region
    from ref.departements
),

familles_ref as (
    select code, cast(rang_min as numeric) as rang_min, ordre
    from ref.familles_fragilite
),

signaux as (
    select code, libelle, parametre, echelle, cast(poids as integer) as poids, ordre
    from ref.signaux_fragilite
),

poids_total as (
    select sum(poids) as poids_total
    from signaux
),

-- the commune's median price per m² over its copropriétés with sales
prix_commune as (
    select code_commune, percentile_cont(0.5) within group (order by prix_m2_median) as prix_m2_commune
    from copros
    where prix_m2_median is not null
    group by code_commune
),

-- the ratios each signal compares with its threshold (NULL when the data is missing), rounded
-- as published so that each published signal can be checked against its published value
ratios as (
    select
        c.*,
        dep.code_region,
        r.idcopro is not null as immatriculee,
        r.nb_declarations, r.maj_annuelle_en_retard, r.nb_arretes_en_cours, r.mandat_ad_hoc_en_cours, r.carence,
        r.administration_provisoire,
        round(r.montant_impayes / nullif(r.charges_courantes + r.charges_exceptionnelles, 0), 4) as part_impayes,
        round(r.dettes_fournisseurs / nullif(r.charges_courantes, 0), 4) as part_dettes_fournisseurs,
        round(r.fonds_travaux / nullif(r.charges_courantes, 0), 4) as part_fonds_travaux,
        -- declared buildings first, else the TUP's DPE
        round(coalesce(r.nb_batiments_passoires::numeric / nullif(r.nb_batiments, 0), c.part_dpe_fg)::numeric, 4) as part_passoires,
        coalesce(c.annee_construction, pf.annee_max, pd.annee_max) as annee_construction_max,
        round(c.nb_logements_vacants_2ans::numeric / nullif(c.nb_logements, 0), 4) as part_vacance_longue,
        round((c.prix_m2_median / nullif(pc.prix_m2_commune, 0))::numeric, 4) as rapport_prix_m2
    from copros c
    left join registre r using (idcopro)
    left join prix_commune pc using (code_commune)
    left join departements dep using (code_departement)
    left join periodes pf on pf.code = c.periode_construction
    left join periodes pd on pd.code = r.periode_construction_declaree
),

-- one boolean per signal of ref.signaux_fragilite: NULL when it cannot be evaluated
drapeaux as (
    select
        ratios.*,
        part_impayes >= p.impayes_min as signal_impayes,
        part_dettes_fournisseurs >= p.dettes_min as signal_dettes_fournisseurs,
        part_fonds_travaux < p.fonds_max as signal_fonds_travaux,
        not m.en_cours as signal_sans_syndic,
        -- the annual update is owed by registered copropriétés only
        case when immatriculee then maj_annuelle_en_retard end as signal_sans_maj_annuelle,
        -- procedures are known from a declaration only
        case when nb_declarations > 0
             then nb_arretes_en_cours > 0 or mandat_ad_hoc_en_cours or carence or administration_provisoire end as signal_procedure,
        part_passoires >= p.passoires_min as signal_passoires,
        annee_construction_max <= p.construction_max as signal_construction_ancienne,
        part_vacance_longue >= p.vacance_min as signal_vacance_longue,
        rapport_prix_m2 <= p.prix_max as signal_prix_bas
    from ratios
    cross join parametres p
    left join mandats m on m.libelle = ratios.mandat
),

-- score, completeness and reasons of each copropriété, from its signals with the value compared and
-- the threshold; aggregated row by row (ten signals), never sorted across copropriétés
evalues as (
    select d.*,
           coalesce(a.score, 0)::integer as score,
           round(coalesce(a.poids_evalues, 0)::numeric / t.poids_total, 4) as completude,
           a.nb_signaux_evalues::integer as nb_signaux_evalues,
           a.nb_signaux_allumes::integer as nb_signaux_allumes,
           coalesce(a.motifs, '{}') as motifs,
           coalesce(a.motifs_detail, '[]') as motifs_detail,
           coalesce(a.signal_tup, false) as signal_tup,
           coalesce(a.poids_evalues, 0) >= p.completude_min * t.poids_total as donnees_suffisantes
    from drapeaux d
    cross join poids_total t
    cross join parametres p
    cross join lateral (
        select sum(s.poids) filter (where v.allume) as score,
               sum(s.poids) as poids_evalues,
               count(*) as nb_signaux_evalues,
               count(*) filter (where v.allume) as nb_signaux_allumes,
               array_agg(s.libelle order by s.ordre) filter (where v.allume) as motifs,
               jsonb_agg(jsonb_build_object('signal', s.code, 'poids', s.poids, 'valeur', v.valeur, 'seuil', v.seuil)
                         order by s.ordre) filter (where v.allume) as motifs_detail,
               bool_or(v.allume and s.echelle = 'tup') as signal_tup
        from (values
            ('impayes', d.signal_impayes, d.part_impayes, p.impayes_min),
            ('dettes_fournisseurs', d.signal_dettes_fournisseurs, d.part_dettes_fournisseurs, p.dettes_min),
            ('fonds_travaux', d.signal_fonds_travaux, d.part_fonds_travaux, p.fonds_max),
            ('sans_syndic', d.signal_sans_syndic, null, null),
            ('sans_maj_annuelle', d.signal_sans_maj_annuelle, null, p.retard_mois),
            ('procedure', d.signal_procedure, null, null),
            ('passoires', d.signal_passoires, d.part_passoires, p.passoires_min),
            ('construction_ancienne', d.signal_construction_ancienne, d.annee_construction_max, p.construction_max),
            ('vacance_longue', d.signal_vacance_longue, d.part_vacance_longue, p.vacance_min),
            ('prix_bas', d.signal_prix_bas, d.rapport_prix_m2, p.prix_max)
        ) as v(code, allume, valeur, seuil)
        join signaux s on s.code = v.code
        where v.allume is not null
    ) as a
),

-- the copropriétés with sufficient data, counted in each territory they belong to
stock as (
    select 'departement' as niveau, code_departement as code, score from evalues
    where donnees_suffisantes and code_departement is not null
    union all
    select 'region', code_region, score from evalues
    where donnees_suffisantes and code_region is not null
    union all
    select 'france', 'france', score from evalues
    where donnees_suffisantes
),

-- the score distribution of each territory's stock
distribution as (
    select niveau, code, score, count(*) as nb
    from stock
    group by niveau, code, score
),

taille_stock as (
    select niveau, code, sum(nb) as nb_stock
    from distribution
    group by niveau, code
),

-- the local stock of each copropriété: its département, else its region, else France
choix_stock as (
    select e.*,
           case when sd.nb_stock >= p.stock_min then 'departement'
                when sr.nb_stock >= p.stock_min then 'region'
                else 'france' end as niveau_stock,
           case when sd.nb_stock >= p.stock_min then e.code_departement
                when sr.nb_stock >= p.stock_min then e.code_region
                else 'france' end as code_stock
    from evalues e
    cross join parametres p
    left join taille_stock sd on sd.niveau = 'departement' and sd.code = e.code_departement
    left join taille_stock sr on sr.niveau = 'region' and sr.code = e.code_region
),

-- share of the local stock below each (stock, score) pair met: computed once per pair, not per copropriété
paires as (
    select distinct niveau_stock, code_stock, score
    from choix_stock
),

rangs_paires as (
    select pr.niveau_stock, pr.code_stock, pr.score,
           coalesce(t.nb_stock, 0)::integer as nb_stock,
           coalesce(sum(d.nb) filter (where d.score < pr.score)::numeric / nullif(t.nb_stock, 0), 0) as rang
    from paires pr
    left join taille_stock t on t.niveau = pr.niveau_stock and t.code = pr.code_stock
    left join distribution d on d.niveau = pr.niveau_stock and d.code = pr.code_stock
    group by pr.niveau_stock, pr.code_stock, pr.score, t.nb_stock
),

-- the highest family whose minimal rank is reached; no signal on: the first family
familles_paires as (
    select rp.*,
           (select f.code from familles_ref f
            where rp.score > 0 and rp.rang >= f.rang_min or f.ordre = 1
            order by (rp.score > 0 and rp.rang >= f.rang_min) desc, f.ordre desc
            limit 1) as famille
    from rangs_paires rp
),

familles as (
    select c.*, fp.rang, fp.nb_stock, fp.famille
    from choix_stock c
    join familles_paires fp using (niveau_stock, code_stock, score)
)

select
    -- ids
    idcopro,
    cast(:millesime as smallint) as millesime,
    num_immat,
    code_commune,
    code_departement,
    -- family and score
    famille,
    score,
    round(rang, 4) as rang,
    niveau_stock,
    code_stock,
    nb_stock,
    completude,
    donnees_suffisantes,
    nb_signaux_evalues,
    nb_signaux_allumes,
    motifs,
    motifs_detail,
    (indicatif and signal_tup) as indicatif,
    immatriculee,
    -- signals (NULL: not evaluable)
    signal_impayes,
    signal_dettes_fournisseurs,
    signal_fonds_travaux,
    signal_sans_syndic,
    signal_sans_maj_annuelle,
    signal_procedure,
    signal_passoires,
    signal_construction_ancienne,
    signal_vacance_longue,
    signal_prix_bas,
    -- ratios compared with the thresholds
    part_impayes,
    part_dettes_fournisseurs,
    part_fonds_travaux,
    part_passoires,
    annee_construction_max,
    part_vacance_longue,
    rapport_prix_m2
from familles
