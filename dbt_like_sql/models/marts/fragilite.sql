-- coproff.fragilite: transparent fragility signals of each copropriété of the referential, a score
-- and a family A-D relative to the copropriétés of its département (the ANAH/DGALN targeting tool's
-- approach). Rules (docs/registre.md), each threshold a row of ref.parametres, each signal a row of
-- ref.signaux_fragilite:
--   * financial (registry, last declared exercise): impayés / charges, supplier debts / charges,
--     fonds de travaux / charges;
--   * functioning: no syndic mandate in force (RNIC, ref.mandats), annual update missing or overdue,
--     a procedure in force (arrêté, mandat ad hoc, administration provisoire, carence);
--   * building: share of F/G buildings declared (else of the TUP's DPE), construction year;
--   * market: long-term vacancy share (LOVAC), price per m² relative to the commune's median (DVF);
--   * score = number of signals on; family A when 0, else B/C/D from its percentile rank among
--     the copropriétés of the département (ref.familles_fragilite.rang_min);
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
        max(cast(valeur as numeric)) filter (where code = 'fragilite_prix_m2_rapport_max') as prix_max
    from ref.parametres
),

copros as (
    select idcopro, num_immat, code_commune, code_departement, indicatif, mandat, annee_construction,
           periode_construction, part_dpe_fg, prix_m2_median, nb_logements, nb_logements_vacants_2ans
    from coproff.coproff
    where millesime = :millesime
),

registre as (
    select idcopro, maj_annuelle_en_retard, nb_arretes_en_cours, mandat_ad_hoc_en_cours, carence,
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

familles_ref as (
    select code, cast(rang_min as numeric) as rang_min, ordre
    from ref.familles_fragilite
),

signaux as (
    select code, libelle, echelle, ordre
    from ref.signaux_fragilite
),

-- the commune's median price per m² over its copropriétés with sales
prix_commune as (
    select code_commune, percentile_cont(0.5) within group (order by prix_m2_median) as prix_m2_commune
    from copros
    where prix_m2_median is not null
    group by code_commune
),

-- the ratios each signal compares with its threshold (NULL when the data is missing)
ratios as (
    select
        c.*,
        r.idcopro is not null as immatriculee,
        r.maj_annuelle_en_retard, r.nb_arretes_en_cours, r.mandat_ad_hoc_en_cours, r.carence,
        r.administration_provisoire,
        r.montant_impayes / nullif(r.charges_courantes + r.charges_exceptionnelles, 0) as part_impayes,
        r.dettes_fournisseurs / nullif(r.charges_courantes, 0) as part_dettes_fournisseurs,
        r.fonds_travaux / nullif(r.charges_courantes, 0) as part_fonds_travaux,
        -- declared buildings first, else the TUP's DPE
        coalesce(r.nb_batiments_passoires::numeric / nullif(r.nb_batiments, 0), c.part_dpe_fg) as part_passoires,
        coalesce(c.annee_construction, pf.annee_max, pd.annee_max) as annee_construction_max,
        c.nb_logements_vacants_2ans::numeric / nullif(c.nb_logements, 0) as part_vacance_longue,
        c.prix_m2_median / nullif(pc.prix_m2_commune, 0) as rapport_prix_m2
    from copros c
    left join registre r using (idcopro)
    left join prix_commune pc using (code_commune)
    left join periodes pf on pf.code = c.periode_construction
    left join periodes pd on pd.code = r.periode_construction_declaree
),

-- one boolean per signal of ref.signaux_fragilite
drapeaux as (
    select
        ratios.*,
        coalesce(part_impayes >= p.impayes_min, false) as signal_impayes,
        coalesce(part_dettes_fournisseurs >= p.dettes_min, false) as signal_dettes_fournisseurs,
        coalesce(part_fonds_travaux < p.fonds_max, false) as signal_fonds_travaux,
        coalesce(not m.en_cours, false) as signal_sans_syndic,
        coalesce(immatriculee and maj_annuelle_en_retard, false) as signal_sans_maj_annuelle,
        coalesce(nb_arretes_en_cours > 0 or mandat_ad_hoc_en_cours or carence or administration_provisoire, false) as signal_procedure,
        coalesce(part_passoires >= p.passoires_min, false) as signal_passoires,
        coalesce(annee_construction_max <= p.construction_max, false) as signal_construction_ancienne,
        coalesce(part_vacance_longue >= p.vacance_min, false) as signal_vacance_longue,
        coalesce(rapport_prix_m2 <= p.prix_max, false) as signal_prix_bas
    from ratios
    cross join parametres p
    left join mandats m on m.libelle = ratios.mandat
),

-- the signals on, by name, for the reasons and the score
allumes as (
    select d.idcopro, s.code, s.libelle, s.echelle, s.ordre
    from drapeaux d
    cross join lateral (values
        ('impayes', d.signal_impayes), ('dettes_fournisseurs', d.signal_dettes_fournisseurs),
        ('fonds_travaux', d.signal_fonds_travaux), ('sans_syndic', d.signal_sans_syndic),
        ('sans_maj_annuelle', d.signal_sans_maj_annuelle), ('procedure', d.signal_procedure),
        ('passoires', d.signal_passoires), ('construction_ancienne', d.signal_construction_ancienne),
        ('vacance_longue', d.signal_vacance_longue), ('prix_bas', d.signal_prix_bas)
    ) as v(code, allume)
    join signaux s on s.code = v.code
    where v.allume
),

motifs as (
    select idcopro, count(*) as score, array_agg(libelle order by ordre) as motifs,
           bool_or(echelle = 'tup') as signal_tup
    from allumes
    group by idcopro
),

-- rank of the score among the copropriétés of the same département
rangs as (
    select d.*, coalesce(m.score, 0) as score, coalesce(m.motifs, '{}') as motifs, coalesce(m.signal_tup, false) as signal_tup,
           percent_rank() over (partition by d.code_departement order by coalesce(m.score, 0)) as rang_departement
    from drapeaux d
    left join motifs m using (idcopro)
),

-- the highest family whose minimal rank the score reaches; no signal: the first family
familles as (
    select rangs.*,
           (select f.code from familles_ref f
            where rangs.score > 0 and rangs.rang_departement >= f.rang_min or f.ordre = 1
            order by (rangs.score > 0 and rangs.rang_departement >= f.rang_min) desc, f.ordre desc
            limit 1) as famille
    from rangs
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
    score::integer as score,
    round(rang_departement::numeric, 4) as rang_departement,
    motifs,
    (indicatif and signal_tup) as indicatif,
    immatriculee,
    -- signals
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
    round(part_impayes, 4) as part_impayes,
    round(part_dettes_fournisseurs, 4) as part_dettes_fournisseurs,
    round(part_fonds_travaux, 4) as part_fonds_travaux,
    round(part_passoires::numeric, 4) as part_passoires,
    annee_construction_max,
    round(part_vacance_longue, 4) as part_vacance_longue,
    round(rapport_prix_m2::numeric, 4) as rapport_prix_m2
from familles
