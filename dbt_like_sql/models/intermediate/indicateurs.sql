-- intermediate.indicateurs: the TUP-level indicators (DPE, DVF sales, LOVAC vacancy) of each
-- copropriété, ready to join to coproff.coproff on idcopro.
--
-- The copropriétés are those of intermediate.synthese (registrations + FF-only copropriétés).
-- DVF and LOVAC describe the TUP: every copropriété of a TUP receives its TUP's values, flagged
-- indicative in coproff.coproff (indicatif) when the TUP holds several registrations.
-- A copropriété with no DPE, sale or vacant dwelling gets 0, not NULL; it gets NULL when it has
-- no TUP (unmatched registration), except for DPE attached directly by registration number.
-- Sales come from DV3F when the millésime has DV3F rows (restricted, one row per mutation), else
-- from DVF; source_ventes records which ("DV3F accepted when present", docs/rules.md "Indicateurs").

with

copros as (
    select idcopro, idtup
    from intermediate.synthese
    where millesime = :millesime
),

dpe as (
    select *
    from intermediate.indicateurs_dpe
    where millesime = :millesime
),

dvf as (
    select *
    from intermediate.indicateurs_dvf
    where millesime = :millesime
),

dv3f as (
    select *
    from intermediate.indicateurs_dv3f
    where millesime = :millesime
),

dv3f_rows as (
    select idmutation
    from staging.dv3f
    where millesime = :millesime
    limit 1
),

lovac as (
    select *
    from intermediate.indicateurs_lovac
    where millesime = :millesime
),

-- the sales source of the millésime: DV3F as soon as it has one row, else DVF
source_ventes as (
    select case when exists (select 1 from dv3f_rows) then 'dv3f' else 'dvf' end as source_ventes
),

-- the sales figures of the chosen source, per TUP
ventes as (
    select dv3f.idtup, dv3f.nb_ventes_appartements, dv3f.prix_m2_median, dv3f.date_derniere_vente
    from dv3f
    cross join source_ventes
    where source_ventes.source_ventes = 'dv3f'
    union all
    select dvf.idtup, dvf.nb_ventes_appartements, dvf.prix_m2_median, dvf.date_derniere_vente
    from dvf
    cross join source_ventes
    where source_ventes.source_ventes = 'dvf'
)

select
    -- ids
    copros.idcopro,
    cast(:millesime as smallint) as millesime,
    -- DPE
    case when copros.idtup is null then dpe.nb_dpe else coalesce(dpe.nb_dpe, 0) end as nb_dpe,
    case when copros.idtup is null then dpe.nb_dpe_immat else coalesce(dpe.nb_dpe_immat, 0) end as nb_dpe_immat,
    dpe.nb_dpe_a,
    dpe.nb_dpe_b,
    dpe.nb_dpe_c,
    dpe.nb_dpe_d,
    dpe.nb_dpe_e,
    dpe.nb_dpe_f,
    dpe.nb_dpe_g,
    dpe.part_dpe_fg,
    dpe.date_dernier_dpe,
    -- sales (DV3F when present, else DVF)
    case when copros.idtup is not null then coalesce(ventes.nb_ventes_appartements, 0) end as nb_ventes_appartements,
    ventes.prix_m2_median,
    ventes.date_derniere_vente,
    case when copros.idtup is not null then source_ventes.source_ventes end as source_ventes,
    -- LOVAC
    case when copros.idtup is not null then coalesce(lovac.nb_logements_vacants, 0) end as nb_logements_vacants,
    case when copros.idtup is not null then coalesce(lovac.nb_logements_vacants_2ans, 0) end as nb_logements_vacants_2ans
from copros
left join dpe on dpe.idcopro = copros.idcopro
cross join source_ventes
left join ventes on ventes.idtup = copros.idtup
left join lovac on lovac.idtup = copros.idtup
