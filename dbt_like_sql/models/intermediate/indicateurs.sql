-- intermediate.indicateurs: the TUP-level indicators (DPE, DVF sales, LOVAC vacancy) of each
-- copropriété, ready to join to coproff.coproff on idcopro.
--
-- The copropriétés are those of intermediate.synthese (registrations + FF-only copropriétés).
-- DVF and LOVAC describe the TUP: every copropriété of a TUP receives its TUP's values, flagged
-- indicative in coproff.coproff (indicatif) when the TUP holds several registrations.
-- NULL and 0 mean different things, the same way for every indicator:
--   * a count (nb_dpe, nb_dpe_immat, nb_dpe_a .. nb_dpe_g, nb_ventes_appartements,
--     nb_logements_vacants, nb_logements_vacants_2ans) is 0 when it was measured and nothing was
--     found (the copropriété has a TUP; for DPE also when a DPE names its registration), NULL when
--     it could not be measured (no TUP: unmatched registration, and for DPE none naming it);
--   * a share, median or date (part_dpe_fg, prix_m2_median, date_dernier_dpe, date_derniere_vente)
--     is NULL when there is nothing to compute it from (no labelled DPE, no apartment sale), never 0.
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
    -- DPE counts: measured (0 if none) with a TUP or a DPE naming the registration, else NULL
    case when copros.idtup is null then dpe.nb_dpe else coalesce(dpe.nb_dpe, 0) end as nb_dpe,
    case when copros.idtup is null then dpe.nb_dpe_immat else coalesce(dpe.nb_dpe_immat, 0) end as nb_dpe_immat,
    case when copros.idtup is null then dpe.nb_dpe_a else coalesce(dpe.nb_dpe_a, 0) end as nb_dpe_a,
    case when copros.idtup is null then dpe.nb_dpe_b else coalesce(dpe.nb_dpe_b, 0) end as nb_dpe_b,
    case when copros.idtup is null then dpe.nb_dpe_c else coalesce(dpe.nb_dpe_c, 0) end as nb_dpe_c,
    case when copros.idtup is null then dpe.nb_dpe_d else coalesce(dpe.nb_dpe_d, 0) end as nb_dpe_d,
    case when copros.idtup is null then dpe.nb_dpe_e else coalesce(dpe.nb_dpe_e, 0) end as nb_dpe_e,
    case when copros.idtup is null then dpe.nb_dpe_f else coalesce(dpe.nb_dpe_f, 0) end as nb_dpe_f,
    case when copros.idtup is null then dpe.nb_dpe_g else coalesce(dpe.nb_dpe_g, 0) end as nb_dpe_g,
    -- share and date: NULL without a (labelled) DPE
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
