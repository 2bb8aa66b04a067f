-- intermediate.synthese: synthesis variables from RNIC and Fichiers fonciers, one row per copropriété (issue 4 §2).
--
-- Rule (CoproFF documentation): on a conflict between the sources, the FF value is kept (tax
-- data, updated yearly), except for copropriétés registered or built in the last three years,
-- which FF may not describe yet: the RNIC value is kept. Each kept value records its source.
-- The two coherence rules are computed here once; coproff.coproff, the statistics models and the
-- warning checks all read these columns:
--   * gap between FF dwellings (nloghcopro) and RNIC dwelling lots (lots_hab), in the classes of
--     the CoproFF documentation; relative gap = |nloghcopro - lots_hab| / lots_hab;
--   * FF construction year (an_const = jannatmin of the TUP) within the RNIC period (p_constr)
--     widened by 4 years on each side.
--   Both are compared only where FF describes this copropriété alone: a registration alone on its
--   TUP (copro_tup = 1) and a TUP holding an FF copropriété (copro_ff); elsewhere they are NULL
--   (out of scope: FF-only, shared TUP, unmatched, TUP without FF copropriété).
-- Key: idcopro, built as the referential builds it (RNC_ + num_immat, FF_ + idtup), so that
-- coproff.coproff joins on it; FF rows are the FF-only copropriétés (intermediate.tup.copro_ff,
-- unmatched), as intermediate.coproff_base selects them.

with

rnic as (
    select num_immat, lots_hab, date_immat, p_constr
    from staging.rnic
    where millesime = :millesime
),

tup_match as (
    select num_immat, idtup
    from intermediate.tup_match
    where millesime = :millesime
),

tup as (
    select idtup, nloghcopro, an_const, copro_ff
    from intermediate.tup
    where millesime = :millesime
),

-- registrations per TUP: FF dwellings can be compared only with the one copropriété of a TUP
registrations_per_tup as (
    select idtup, count(*) as copro_tup
    from tup_match
    where idtup is not null
    group by idtup
),

registered as (
    select
        'RNC_' || rnic.num_immat as idcopro,
        rnic.num_immat,
        tup_match.idtup,
        coalesce(registrations_per_tup.copro_tup, 0) as copro_tup,
        rnic.lots_hab,
        tup.nloghcopro,
        coalesce(tup.copro_ff, false) as copro_ff,
        rnic.p_constr,
        nullif(tup.an_const, 0) as an_const,
        rnic.date_immat
    from rnic
    left join tup_match on tup_match.num_immat = rnic.num_immat
    left join tup on tup.idtup = tup_match.idtup
    left join registrations_per_tup on registrations_per_tup.idtup = tup_match.idtup
),

ff_only_candidates as (
    select
        'FF_' || tup.idtup as idcopro,
        cast(null as char(9)) as num_immat,
        tup.idtup,
        0 as copro_tup,
        cast(null as integer) as lots_hab,
        tup.nloghcopro,
        tup.copro_ff,
        cast(null as text) as p_constr,
        nullif(tup.an_const, 0) as an_const,
        cast(null as date) as date_immat
    from tup
    where tup.copro_ff
      and not exists (select 1 from registrations_per_tup r where r.idtup = tup.idtup)
),

copros as (
    select * from registered
    union all
    select * from ff_only_candidates
),

-- RNIC construction periods widened by 4 years on each side (CoproFF coherence rule)
periods as (
    select * from (values
        ('AVANT_1949',        cast(null as integer), 1952),
        ('DE_1949_A_1960',    1945, 1964),
        ('DE_1961_A_1974',    1957, 1978),
        ('DE_1975_A_1993',    1971, 1997),
        ('DE_1994_A_2000',    1990, 2004),
        ('DE_2001_A_2010',    1997, 2014),
        ('A_COMPTER_DE_2011', 2007, cast(null as integer))
    ) as p (p_constr, annee_min, annee_max)
),

-- FF construction year brought back to an RNIC period, to compare and to publish one period
ff_periods as (
    select * from (values
        ('AVANT_1949',        0,    1948),
        ('DE_1949_A_1960',    1949, 1960),
        ('DE_1961_A_1974',    1961, 1974),
        ('DE_1975_A_1993',    1975, 1993),
        ('DE_1994_A_2000',    1994, 2000),
        ('DE_2001_A_2010',    2001, 2010),
        ('A_COMPTER_DE_2011', 2011, 9999)
    ) as f (p_constr, annee_min, annee_max)
),

-- recent = registered after September 30th of N-3, or built in N-2 or later
flagged as (
    select
        copros.*,
        coalesce(copros.date_immat > make_date(:millesime - 3, 9, 30), false)
        or coalesce(copros.an_const >= :millesime - 2, false) as recente,
        abs(copros.nloghcopro - copros.lots_hab) as ecart,
        periods.annee_min as periode_min_elargie,
        periods.annee_max as periode_max_elargie,
        periods.p_constr is not null as periode_connue,
        ff_periods.p_constr as periode_ff
    from copros
    left join periods on periods.p_constr = copros.p_constr
    left join ff_periods on copros.an_const between ff_periods.annee_min and ff_periods.annee_max
),

classified as (
    select
        flagged.*,
        -- gap classes exactly as named in the CoproFF documentation
        case
            when num_immat is null or copro_tup <> 1 or not copro_ff then null  -- out of scope
            when lots_hab is null or lots_hab = 0 or nloghcopro is null then 'Non renseigné'
            when ecart = 0 then 'Aucun écart'
            when ecart = 1 then 'Ecart de 1 logement'
            when ecart < 0.10 * lots_hab then 'Moins de 10%'
            when ecart < 0.25 * lots_hab then 'Moins de 25%'
            when ecart < 0.50 * lots_hab then 'Moins de 50%'
            when ecart < 1.00 * lots_hab then 'Moins de 100%'
            else '100% ou plus'
        end as classe_ecart_logements,
        case
            when num_immat is null or copro_tup <> 1 or not copro_ff then null  -- out of scope
            when not periode_connue or an_const is null then 'non_comparable'
            when (periode_min_elargie is null or an_const >= periode_min_elargie)
             and (periode_max_elargie is null or an_const <= periode_max_elargie) then 'coherent'
            else 'incoherent'
        end as coherence_construction
    from flagged
),

final as (
    select
        -- ids
        idcopro,
        cast(:millesime as smallint) as millesime,
        num_immat,
        idtup,
        -- number of dwellings: FF kept when present, RNIC for recent copropriétés on conflict
        case
            when nloghcopro is null then lots_hab
            when lots_hab is null then nloghcopro
            when ecart <> 0 and recente then lots_hab
            else nloghcopro
        end as nb_logements,
        case
            when nloghcopro is null and lots_hab is null then null
            when nloghcopro is null then 'rnic'
            when lots_hab is null then 'ff'
            when ecart <> 0 and recente then 'rnic'
            else 'ff'
        end as source_nb_logements,
        -- construction: FF year kept unless it contradicts the RNIC period of a recent copropriété
        case
            when coherence_construction = 'incoherent' and recente then null
            else an_const
        end as annee_construction,
        case
            when an_const is null and not periode_connue then null
            when an_const is null then p_constr
            when coherence_construction = 'incoherent' and recente then p_constr
            else periode_ff
        end as periode_construction,
        case
            when an_const is null and not periode_connue then null
            when an_const is null then 'rnic'
            when coherence_construction = 'incoherent' and recente then 'rnic'
            else 'ff'
        end as source_construction,
        recente as copro_recente,
        -- coherence rules
        classe_ecart_logements,
        coherence_construction
    from classified
)

select * from final
