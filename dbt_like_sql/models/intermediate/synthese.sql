-- intermediate.synthese: synthesis variables from RNIC and Fichiers fonciers, one row per copropriété.
--
-- Rule (CoproFF documentation, docs/rules.md "Règles de cohérence"): on a conflict between the
-- sources, the FF value is kept (tax data, updated yearly), except for recent copropriétés
-- (registered or built in the last ref.parametres.copro_recente_ans years), which FF may not
-- describe yet: the RNIC value is kept. Each kept value records its source.
-- The two coherence rules are computed here once; coproff.coproff, the statistics models and the
-- warning checks all read these columns:
--   * gap between FF dwellings (nloghcopro) and RNIC dwelling lots (lots_hab), in the classes of
--     ref.classes_ecart_logements; relative gap = |nloghcopro - lots_hab| / lots_hab;
--   * FF construction year (an_const = jannatmin of the TUP) within the RNIC period (p_constr,
--     ref.periodes_construction) widened by ref.parametres.coherence_construction_marge_ans years
--     on each side.
--   Both are compared only where FF describes this copropriété alone: a registration alone on its
--   TUP (copro_tup = 1) and a TUP holding an FF copropriété (copro_ff); elsewhere they are NULL
--   (out of scope: FF-only, shared TUP, unmatched, TUP without FF copropriété).
-- Population: intermediate.coproff_base (registered + FF-only copropriétés, built there once);
-- key idcopro, the key of coproff.coproff.

with

coproff_base as (
    select idcopro, num_immat, idtup, copro_tup, lots_hab, nloghcopro, copro_ff, p_constr, an_const, date_immat
    from intermediate.coproff_base
    where millesime = :millesime
),

periodes_construction as (
    select code, annee_min, annee_max
    from ref.periodes_construction
),

classes_ecart_logements as (
    select code, libelle, ordre, ecart_exact, part_max
    from ref.classes_ecart_logements
),

parametres as (
    select
        max(cast(valeur as integer)) filter (where code = 'coherence_construction_marge_ans') as marge_ans,
        max(cast(valeur as integer)) filter (where code = 'copro_recente_ans') as recente_ans
    from ref.parametres
),

-- the population with the values the rules compare (no FF year is 0: 0 means unknown in FF)
copros as (
    select
        idcopro,
        num_immat,
        idtup,
        coalesce(copro_tup, 0) as copro_tup,
        lots_hab,
        nloghcopro,
        coalesce(copro_ff, false) as copro_ff,
        p_constr,
        nullif(an_const, 0) as an_const,
        date_immat
    from coproff_base
),

-- RNIC construction periods widened by the coherence margin on each side (open bounds stay open)
periods as (
    select
        periodes_construction.code as p_constr,
        periodes_construction.annee_min - parametres.marge_ans as annee_min,
        periodes_construction.annee_max + parametres.marge_ans as annee_max
    from periodes_construction
    cross join parametres
),

-- recent = registered after September 30th (the RNIC export) of N - copro_recente_ans, or built
-- less than copro_recente_ans years before N
flagged as (
    select
        copros.*,
        coalesce(copros.date_immat > make_date(:millesime - parametres.recente_ans, 9, 30), false)
        or coalesce(copros.an_const > :millesime - parametres.recente_ans, false) as recente,
        abs(copros.nloghcopro - copros.lots_hab) as ecart,
        periods.annee_min as periode_min_elargie,
        periods.annee_max as periode_max_elargie,
        periods.p_constr is not null as periode_connue,
        ff_periods.code as periode_ff
    from copros
    cross join parametres
    left join periods on periods.p_constr = copros.p_constr
    -- FF construction year brought back to an RNIC period, to compare and to publish one period
    left join periodes_construction as ff_periods
        on (ff_periods.annee_min is null or copros.an_const >= ff_periods.annee_min)
       and (ff_periods.annee_max is null or copros.an_const <= ff_periods.annee_max)
),

-- gap class: the first class (in ref.classes_ecart_logements order) whose exact gap or maximal
-- relative gap the copropriété meets; the class with neither bound ('100% ou plus') takes the rest;
-- 'non_renseigne' is for a missing or zero count
gap_classes as (
    select
        flagged.idcopro,
        case
            when flagged.lots_hab is null or flagged.lots_hab = 0 or flagged.nloghcopro is null then
                (select libelle from classes_ecart_logements where code = 'non_renseigne')
            else (
                select c.libelle
                from classes_ecart_logements as c
                where c.code <> 'non_renseigne'
                  and (c.ecart_exact = flagged.ecart
                       or flagged.ecart < c.part_max * flagged.lots_hab
                       or (c.ecart_exact is null and c.part_max is null))
                order by c.ordre
                limit 1
            )
        end as classe
    from flagged
    where flagged.num_immat is not null and flagged.copro_tup = 1 and flagged.copro_ff  -- in scope
),

classified as (
    select
        flagged.*,
        gap_classes.classe as classe_ecart_logements,
        case
            when num_immat is null or copro_tup <> 1 or not copro_ff then null  -- out of scope
            when not periode_connue or an_const is null then 'non_comparable'
            when (periode_min_elargie is null or an_const >= periode_min_elargie)
             and (periode_max_elargie is null or an_const <= periode_max_elargie) then 'coherent'
            else 'incoherent'
        end as coherence_construction
    from flagged
    left join gap_classes on gap_classes.idcopro = flagged.idcopro
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
