-- coproff.coproff: the published CoproFF referential, one row per copropriété and millésime.
-- Built in intermediate.coproff_base (rules documented there); this mart adds the duplicate flag
-- from coproff.doublons.
-- Indicator models (DPE, DVF, LOVAC) join here: add an import CTE and a left join on
-- idtup / num_immat in the block marked "indicators", and list their columns in the final select.

with

coproff_base as (
    select *
    from intermediate.coproff_base
    where millesime = :millesime
),

doublons as (
    select idcopro_a, idcopro_b
    from coproff.doublons
    where millesime = :millesime
),

-- a row is a suspected duplicate when it appears in any pair of coproff.doublons
suspects as (
    select idcopro_a as idcopro from doublons
    union
    select idcopro_b from doublons
),

-- indicators: synthesis variables and TUP indicators, one row per idcopro each
synthese as (
    select *
    from intermediate.synthese
    where millesime = :millesime
),

indicateurs as (
    select *
    from intermediate.indicateurs
    where millesime = :millesime
)
-- end indicators

select
    -- ids
    coproff_base.idcopro,
    coproff_base.millesime,
    coproff_base.num_immat,
    coproff_base.idtup,
    -- situation
    coproff_base.situation,
    coproff_base.copro_tup,
    coproff_base.indicatif,
    coproff_base.tup_sans_copro_ff,
    (suspects.idcopro is not null) as doublon_suspect,
    -- RNIC attributes
    coproff_base.nom_copro,
    coproff_base.adresse,
    coproff_base.numero_voie,
    coproff_base.code_postal,
    coproff_base.commune_adresse,
    coproff_base.code_commune,
    coproff_base.code_departement,
    coproff_base.epci,
    coproff_base.lots_total,
    coproff_base.lots_hab_bur_com,
    coproff_base.lots_hab,
    coproff_base.lots_stationnement,
    coproff_base.p_constr,
    coproff_base.type_syndic,
    coproff_base.syndic_raison_sociale,
    coproff_base.mandat,
    coproff_base.date_fin_mandat,
    coproff_base.date_immat,
    coproff_base.date_maj,
    coproff_base.date_reglement,
    coproff_base.syndicat_principal,
    coproff_base.num_immat_principal,
    coproff_base.residence_service,
    coproff_base.syndicat_cooperatif,
    coproff_base.controles,
    -- FF attributes
    coproff_base.typetup,
    coproff_base.ctpdl,
    coproff_base.nloghcopro,
    coproff_base.nlogh,
    coproff_base.nlocal,
    coproff_base.an_const,
    -- matching
    coproff_base.methode_appariement,
    coproff_base.motif_appariement,
    coproff_base.distance_appariement_m,
    -- indicators: synthesis from RNIC and FF (intermediate/synthese.sql)
    synthese.nb_logements,
    synthese.source_nb_logements,
    synthese.annee_construction,
    synthese.periode_construction,
    synthese.source_construction,
    synthese.copro_recente,
    synthese.classe_ecart_logements,
    synthese.coherence_construction,
    -- indicators: TUP indicators, indicative when indicatif (copro_tup > 1)
    indicateurs.nb_dpe,
    indicateurs.nb_dpe_immat,
    indicateurs.nb_dpe_a,
    indicateurs.nb_dpe_b,
    indicateurs.nb_dpe_c,
    indicateurs.nb_dpe_d,
    indicateurs.nb_dpe_e,
    indicateurs.nb_dpe_f,
    indicateurs.nb_dpe_g,
    indicateurs.part_dpe_fg,
    indicateurs.date_dernier_dpe,
    indicateurs.nb_ventes_appartements,
    indicateurs.prix_m2_median,
    indicateurs.date_derniere_vente,
    -- sales source
    indicateurs.source_ventes,
    -- end sales source
    indicateurs.nb_logements_vacants,
    indicateurs.nb_logements_vacants_2ans,
    -- end indicators
    -- geometry (WGS84)
    coproff_base.source_geom,
    coproff_base.geom
from coproff_base
left join suspects on suspects.idcopro = coproff_base.idcopro
-- indicators
left join synthese on synthese.idcopro = coproff_base.idcopro
left join indicateurs on indicateurs.idcopro = coproff_base.idcopro
-- end indicators
