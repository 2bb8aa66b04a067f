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
)

-- indicators: (issue 4) import CTEs of the indicator models go above this line

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
    -- indicators: (issue 4) indicator columns go here
    -- geometry (WGS84)
    coproff_base.source_geom,
    coproff_base.geom
from coproff_base
left join suspects on suspects.idcopro = coproff_base.idcopro
-- indicators: (issue 4) left joins of the indicator models go here
