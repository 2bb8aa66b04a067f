-- coproff.stats_situations: copropriétés by situation, per millésime, for France, each
-- département, EPCI and commune.
--
-- The four situations of CoproFF (rnic_1_1, rnic_1_n, ff_only, rnic_unmatched) partition the
-- rows; tup_sans_copro_ff (registered copropriétés matched to a TUP where FF shows no copropriété)
-- is a subset of the registered ones, counted beside them.
-- EPCI: the registry gives the EPCI of registered copropriétés only; an FF-only copropriété takes
-- the EPCI of the registered copropriétés of its commune (none known: 'inconnu').

with

-- the parcel source the millésime's TUPs were built from (ff or cadastre): one per millésime
-- (intermediate.tup: FF wins when both exist), so the first TUP says it
parcel_source as (
    select source_parcelles
    from intermediate.tup
    where millesime = :millesime
    limit 1
),

coproff as (
    select idcopro, situation, tup_sans_copro_ff, code_commune, code_departement, epci
    from coproff.coproff
    where millesime = :millesime
),

-- EPCI of each commune, as the registry records it for the commune's registered copropriétés
epci_of_commune as (
    select code_commune, min(epci) as epci
    from coproff
    where epci is not null and code_commune is not null
    group by code_commune
),

located as (
    select
        coproff.situation,
        coproff.tup_sans_copro_ff,
        coalesce(coproff.code_commune, 'inconnu') as code_commune,
        coalesce(coproff.code_departement, 'inconnu') as code_departement,
        coalesce(coproff.epci, epci_of_commune.epci, 'inconnu') as epci
    from coproff
    left join epci_of_commune on epci_of_commune.code_commune = coproff.code_commune
),

counted as (
    select
        case
            when grouping(code_commune) = 0 then 'commune'
            when grouping(epci) = 0 then 'epci'
            when grouping(code_departement) = 0 then 'departement'
            else 'france'
        end as niveau,
        coalesce(code_commune, epci, code_departement, 'FR') as code_territoire,
        count(*) as nb_copro,
        count(*) filter (where situation = 'rnic_1_1') as nb_rnic_1_1,
        count(*) filter (where situation = 'rnic_1_n') as nb_rnic_1_n,
        count(*) filter (where situation = 'ff_only') as nb_ff_only,
        count(*) filter (where situation = 'rnic_unmatched') as nb_rnic_unmatched,
        count(*) filter (where tup_sans_copro_ff) as nb_tup_sans_copro_ff
    from located
    group by grouping sets ((), (code_departement), (epci), (code_commune))
)

select
    -- ids
    cast(:millesime as smallint) as millesime,
    parcel_source.source_parcelles,
    niveau,
    code_territoire,
    -- counts
    cast(nb_copro as integer) as nb_copro,
    cast(nb_rnic_1_1 as integer) as nb_rnic_1_1,
    cast(nb_rnic_1_n as integer) as nb_rnic_1_n,
    cast(nb_ff_only as integer) as nb_ff_only,
    cast(nb_rnic_unmatched as integer) as nb_rnic_unmatched,
    cast(nb_tup_sans_copro_ff as integer) as nb_tup_sans_copro_ff,
    -- shares of the territory's copropriétés
    round(cast(nb_rnic_1_1 as numeric) / nb_copro, 4) as part_rnic_1_1,
    round(cast(nb_rnic_1_n as numeric) / nb_copro, 4) as part_rnic_1_n,
    round(cast(nb_ff_only as numeric) / nb_copro, 4) as part_ff_only,
    round(cast(nb_rnic_unmatched as numeric) / nb_copro, 4) as part_rnic_unmatched,
    round(cast(nb_tup_sans_copro_ff as numeric) / nb_copro, 4) as part_tup_sans_copro_ff
from counted
left join parcel_source on true
