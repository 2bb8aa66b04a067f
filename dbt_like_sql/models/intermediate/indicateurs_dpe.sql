-- intermediate.indicateurs_dpe: energy certificates (ADEME DPE) per copropriété (docs/rules.md
-- "Indicateurs").
--
-- Rules:
--   * DPE of the last ref.parametres.dpe_fenetre_ans calendar years of the millésime (N included);
--   * a DPE carrying a registration number known to the registry of the millésime attaches to that
--     registration directly (rattachement 'immatriculation'), whatever its location;
--   * any other DPE attaches by location to the TUP whose polygon contains its point, and through
--     the TUP to every copropriété of that TUP (its registrations, or the FF-only copropriété).
--     When a TUP holds several registrations these counts are indicative (coproff.indicatif).
-- Key: idcopro (RNC_ + num_immat, FF_ + idtup), the key of coproff.coproff.

with

parametres as (
    select max(cast(valeur as integer)) filter (where code = 'dpe_fenetre_ans') as fenetre_ans
    from ref.parametres
),

dpe as (
    select numero_dpe, date_etablissement_dpe, etiquette_dpe, num_immat, geom
    from staging.dpe
    cross join parametres
    where millesime = :millesime
      and date_etablissement_dpe > make_date(:millesime - parametres.fenetre_ans, 12, 31)
      and date_etablissement_dpe <= make_date(:millesime, 12, 31)
),

-- DPE labels (A to G) and the F/G "passoires"
etiquettes_dpe as (
    select code, passoire
    from ref.etiquettes_dpe
),

rnic as (
    select num_immat
    from staging.rnic
    where millesime = :millesime
),

tup_match as (
    select num_immat, idtup
    from intermediate.tup_match
    where millesime = :millesime
),

tup as (
    select idtup, copro_ff, geomtup
    from intermediate.tup
    where millesime = :millesime
),

-- TUPs matched by a registration (one row each, joined by hash below)
matched_tups as (
    select distinct idtup
    from tup_match
    where idtup is not null
),

-- direct attachment: the DPE names a registration of the millésime
dpe_direct as (
    select dpe.*
    from dpe
    inner join rnic on rnic.num_immat = dpe.num_immat
),

-- attachment by location: the other DPE, in the polygon of a TUP of the referential (matched by
-- a registration, or holding an FF-only copropriété)
dpe_located as (
    select dpe.*, tup.idtup, matched_tups.idtup is null as ff_only
    from dpe
    inner join tup on ST_Intersects(tup.geomtup, dpe.geom)
    left join matched_tups on matched_tups.idtup = tup.idtup
    where (tup.copro_ff or matched_tups.idtup is not null)
      and not exists (select 1 from rnic where rnic.num_immat = dpe.num_immat)
),

attached as (
    select 'RNC_' || dpe_direct.num_immat as idcopro, 'immatriculation' as rattachement,
           dpe_direct.numero_dpe, dpe_direct.date_etablissement_dpe, dpe_direct.etiquette_dpe
    from dpe_direct
    union all
    select 'RNC_' || tup_match.num_immat, 'tup',
           dpe_located.numero_dpe, dpe_located.date_etablissement_dpe, dpe_located.etiquette_dpe
    from dpe_located
    inner join tup_match on tup_match.idtup = dpe_located.idtup
    union all
    select 'FF_' || dpe_located.idtup, 'tup',
           dpe_located.numero_dpe, dpe_located.date_etablissement_dpe, dpe_located.etiquette_dpe
    from dpe_located
    where dpe_located.ff_only
),

-- one column per label of ref.etiquettes_dpe (the published columns nb_dpe_a .. nb_dpe_g); the
-- share of F and G counts the labels flagged passoire among the labelled DPE
per_copro as (
    select
        attached.idcopro,
        count(*) as nb_dpe,
        count(*) filter (where rattachement = 'immatriculation') as nb_dpe_immat,
        count(*) filter (where etiquette_dpe = 'A') as nb_dpe_a,
        count(*) filter (where etiquette_dpe = 'B') as nb_dpe_b,
        count(*) filter (where etiquette_dpe = 'C') as nb_dpe_c,
        count(*) filter (where etiquette_dpe = 'D') as nb_dpe_d,
        count(*) filter (where etiquette_dpe = 'E') as nb_dpe_e,
        count(*) filter (where etiquette_dpe = 'F') as nb_dpe_f,
        count(*) filter (where etiquette_dpe = 'G') as nb_dpe_g,
        count(*) filter (where etiquettes_dpe.code is not null) as nb_dpe_etiquete,
        count(*) filter (where etiquettes_dpe.passoire) as nb_dpe_passoire,
        max(date_etablissement_dpe) as date_dernier_dpe
    from attached
    left join etiquettes_dpe on etiquettes_dpe.code = attached.etiquette_dpe
    group by attached.idcopro
)

select
    -- ids
    idcopro,
    cast(:millesime as smallint) as millesime,
    -- counts
    cast(nb_dpe as integer) as nb_dpe,
    cast(nb_dpe_immat as integer) as nb_dpe_immat,
    cast(nb_dpe_a as integer) as nb_dpe_a,
    cast(nb_dpe_b as integer) as nb_dpe_b,
    cast(nb_dpe_c as integer) as nb_dpe_c,
    cast(nb_dpe_d as integer) as nb_dpe_d,
    cast(nb_dpe_e as integer) as nb_dpe_e,
    cast(nb_dpe_f as integer) as nb_dpe_f,
    cast(nb_dpe_g as integer) as nb_dpe_g,
    -- share of F and G labels among labelled DPE
    round(cast(nb_dpe_passoire as numeric) / nullif(nb_dpe_etiquete, 0), 4) as part_dpe_fg,
    -- dates
    date_dernier_dpe
from per_copro
