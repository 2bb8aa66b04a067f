-- intermediate.indicateurs: the TUP-level indicators (DPE, DVF sales, LOVAC vacancy) of each
-- copropriété, ready to join to coproff.coproff on idcopro (issue 4 §1).
--
-- The copropriétés are those of intermediate.synthese (registrations + FF-only copropriétés).
-- DVF and LOVAC describe the TUP: every copropriété of a TUP receives its TUP's values, flagged
-- indicative in coproff.coproff (indicatif) when the TUP holds several registrations.
-- A copropriété with no DPE, sale or vacant dwelling gets 0, not NULL; it gets NULL when it has
-- no TUP (unmatched registration), except for DPE attached directly by registration number.

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

lovac as (
    select *
    from intermediate.indicateurs_lovac
    where millesime = :millesime
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
    -- DVF
    case when copros.idtup is not null then coalesce(dvf.nb_ventes_appartements, 0) end as nb_ventes_appartements,
    dvf.prix_m2_median,
    dvf.date_derniere_vente,
    -- LOVAC
    case when copros.idtup is not null then coalesce(lovac.nb_logements_vacants, 0) end as nb_logements_vacants,
    case when copros.idtup is not null then coalesce(lovac.nb_logements_vacants_2ans, 0) end as nb_logements_vacants_2ans
from copros
left join dpe on dpe.idcopro = copros.idcopro
left join dvf on dvf.idtup = copros.idtup
left join lovac on lovac.idtup = copros.idtup
