-- intermediate.tup_match: each registration (RNIC) of the millésime attached to at most one TUP.
--
-- The rules are applied in order; a registration takes the first step that gives it a TUP.
--   Step 1 (methode 'idpar'): its cadastral references (normalised idpar, every listed reference)
--          lead to FF parcels, hence to their TUPs. A TUP is accepted when the RNIC point lies within
--          100 m of the referenced parcel, or when the registration has no usable point (missing,
--          or imprecise: both coordinates given with 3 decimals or fewer, i.e. ±100 m or worse, as
--          the truncated `45.75` of real rows). When the accepted references lead to several TUPs,
--          one is picked deterministically (1b) and the reason code names the deciding criterion.
--   Step 2 (methode 'geoloc'): for a precise point only, among the TUPs of the registration's own
--          département (FF are delivered per département; a point across a border designates a
--          building of the declared département), the TUP whose polygon contains the RNIC point (2a),
--          else the nearest TUP holding an FF copropriété within 100 m of the point (2b).
--   Step 3 (methode 'none'): no TUP; the reason says why.
-- Distances are in metres, measured on the WGS84 ellipsoid (geography).

with

rnic_staged as (
    select
        num_immat,
        l_idpar,
        lots_hab,
        code_departement,
        coalesce(code_arrondissement, code_commune) as code_commune,
        geom
    from staging.rnic
    where millesime = :millesime
),

-- a point whose two coordinates carry 3 decimals or fewer is imprecise (±100 m or worse): it can
-- neither confirm nor reject a reference, nor locate a TUP
rnic as (
    select
        num_immat,
        l_idpar,
        lots_hab,
        code_departement,
        code_commune,
        geom,
        (
            geom is not null
            and round(ST_X(geom)::numeric, 3) = ST_X(geom)::numeric
            and round(ST_Y(geom)::numeric, 3) = ST_Y(geom)::numeric
        ) as point_imprecis
    from rnic_staged
),

ff_parcelle as not materialized (
    select
        idpar,
        idtup,
        geompar_4326
    from staging.ff_parcelle
    where millesime = :millesime
),

tup as not materialized (
    select
        idtup,
        idcom,
        code_departement,
        copro_ff,
        nloghcopro,
        geomtup
    from intermediate.tup
    where millesime = :millesime
),

-- Step 1 ----------------------------------------------------------------------------------------

-- one row per listed cadastral reference (idpar_1..3, already normalised by the loader: Paris,
-- Lyon and Marseille references rewritten in arrondissement form, one-letter sections padded)
rnic_reference as (
    select
        rnic.num_immat,
        ref.idpar
    from rnic
    cross join lateral unnest(rnic.l_idpar) as ref(idpar)
),

-- the FF parcel of each reference and the distance from the RNIC point to that parcel
reference_parcel as (
    select
        rnic_reference.num_immat,
        rnic_reference.idpar,
        ff_parcelle.idtup,
        case
            when not rnic.point_imprecis
                then ST_Distance(rnic.geom::geography, ff_parcelle.geompar_4326::geography)
        end as distance_m
    from rnic_reference
    inner join ff_parcelle on ff_parcelle.idpar = rnic_reference.idpar
    inner join rnic on rnic.num_immat = rnic_reference.num_immat
    where ff_parcelle.idtup is not null
),

-- rule 1a: a reference is accepted when the point is within 100 m of its parcel, or when there is
-- no usable point (distance_m is NULL: point missing or imprecise)
reference_accepted as (
    select
        num_immat,
        idtup,
        count(*) as nb_references,
        min(distance_m) as distance_m
    from reference_parcel
    where distance_m is null or distance_m <= 100
    group by num_immat, idtup
),

-- rule 1b: several TUPs → the one most references lead to, then one holding an FF copropriété,
-- then the nearest to the point, then the smallest idtup (deterministic)
idpar_ranked as (
    select
        reference_accepted.num_immat,
        reference_accepted.idtup,
        reference_accepted.distance_m,
        reference_accepted.nb_references,
        tup.copro_ff,
        count(*) over (partition by reference_accepted.num_immat) as nb_candidats,
        row_number() over by_rule as rang,
        -- the runner-up, to record which criterion decided
        lead(reference_accepted.nb_references) over by_rule as nb_references_suivant,
        lead(tup.copro_ff) over by_rule as copro_ff_suivant,
        lead(reference_accepted.distance_m) over by_rule as distance_m_suivant
    from reference_accepted
    inner join tup on tup.idtup = reference_accepted.idtup
    window by_rule as (
        partition by reference_accepted.num_immat
        order by
            reference_accepted.nb_references desc,
            tup.copro_ff desc,
            reference_accepted.distance_m asc nulls last,
            reference_accepted.idtup
    )
),

idpar_match as (
    select
        num_immat,
        idtup,
        'idpar' as methode,
        distance_m,
        nb_candidats,
        case
            when nb_candidats > 1 and nb_references > nb_references_suivant
                then 'idpar_plusieurs_tup_plus_de_references'
            when nb_candidats > 1 and copro_ff and not copro_ff_suivant
                then 'idpar_plusieurs_tup_seule_copro_ff'
            when nb_candidats > 1 and distance_m < distance_m_suivant
                then 'idpar_plusieurs_tup_plus_proche'
            when nb_candidats > 1
                then 'idpar_plusieurs_tup_plus_petit_idtup'
            when distance_m is null then 'idpar_sans_point_precis'
            else 'idpar_point_a_moins_de_100m'
        end as motif
    from idpar_ranked
    where rang = 1
),

-- Step 2 ----------------------------------------------------------------------------------------

-- registrations step 1 left without a TUP, that have a point
to_locate as (
    select
        rnic.num_immat,
        rnic.lots_hab,
        rnic.code_departement,
        rnic.code_commune,
        rnic.geom
    from rnic
    where rnic.geom is not null
      and not rnic.point_imprecis
      and not exists (select 1 from idpar_match where idpar_match.num_immat = rnic.num_immat)
),

-- rule 2a: the TUP of the registration's département whose polygon contains the point (should
-- several, e.g. overlapping edges, contain it: the one of the registration's commune, then the
-- one holding an FF copropriété, then the smallest idtup)
geoloc_contains as (
    select
        to_locate.num_immat,
        tup.idtup,
        count(*) over (partition by to_locate.num_immat) as nb_candidats,
        row_number() over (
            partition by to_locate.num_immat
            order by (tup.idcom = to_locate.code_commune) desc, tup.copro_ff desc, tup.idtup
        ) as rang
    from to_locate
    inner join tup
        on ST_Intersects(tup.geomtup, to_locate.geom)
       and tup.code_departement = coalesce(to_locate.code_departement, tup.code_departement)
),

-- rule 2b: else the TUPs of the registration's département holding an FF copropriété within
-- 100 m of the point
-- (the && box of ±0.002° ≥ 100 m everywhere in France lets the spatial index prune first)
geoloc_near_candidates as (
    select
        to_locate.num_immat,
        tup.idtup,
        ST_Distance(to_locate.geom::geography, tup.geomtup::geography) as distance_m,
        abs(coalesce(tup.nloghcopro, 0) - coalesce(to_locate.lots_hab, 0)) as ecart_logements
    from to_locate
    inner join tup
        on tup.geomtup && ST_Expand(to_locate.geom, 0.002)
       and tup.copro_ff
       and tup.code_departement = coalesce(to_locate.code_departement, tup.code_departement)
       and ST_DWithin(to_locate.geom::geography, tup.geomtup::geography, 100)
    where not exists (select 1 from geoloc_contains where geoloc_contains.num_immat = to_locate.num_immat)
),

-- nearest first; FF has no address, so equal distances are broken by the closest dwelling count
-- (FF nloghcopro vs RNIC lots_hab), then the smallest idtup
geoloc_near_ranked as (
    select
        geoloc_near_candidates.*,
        count(*) over (partition by num_immat) as nb_candidats,
        row_number() over (partition by num_immat order by distance_m, ecart_logements, idtup) as rang
    from geoloc_near_candidates
),

geoloc_match as (
    select num_immat, idtup, 'geoloc' as methode, 0::float8 as distance_m, nb_candidats,
           'geoloc_point_dans_tup' as motif
    from geoloc_contains
    where rang = 1
    union all
    select num_immat, idtup, 'geoloc' as methode, distance_m, nb_candidats,
           'geoloc_tup_copro_ff_a_moins_de_100m' as motif
    from geoloc_near_ranked
    where rang = 1
),

-- Step 3 ----------------------------------------------------------------------------------------

-- registrations with at least one reference found among the FF parcels
reference_found as (
    select distinct num_immat
    from reference_parcel
),

-- why a registration stays without a TUP
unmatched as (
    select
        rnic.num_immat,
        null::text as idtup,
        'none' as methode,
        null::float8 as distance_m,
        0::bigint as nb_candidats,
        case
            when reference_found.num_immat is not null
                then 'none_references_a_plus_de_100m'
            when cardinality(rnic.l_idpar) > 0 and rnic.geom is null
                then 'none_references_absentes_des_ff_sans_point'
            when cardinality(rnic.l_idpar) > 0 and rnic.point_imprecis
                then 'none_references_absentes_des_ff_point_imprecis'
            when cardinality(rnic.l_idpar) > 0
                then 'none_references_absentes_des_ff_aucune_tup_au_point'
            when rnic.geom is null
                then 'none_ni_reference_ni_point'
            when rnic.point_imprecis
                then 'none_point_imprecis_sans_reference'
            else 'none_aucune_tup_au_point_ni_a_moins_de_100m'
        end as motif
    from rnic
    left join reference_found on reference_found.num_immat = rnic.num_immat
    where not exists (select 1 from idpar_match where idpar_match.num_immat = rnic.num_immat)
      and not exists (select 1 from geoloc_match where geoloc_match.num_immat = rnic.num_immat)
),

matched as (
    select num_immat, idtup, methode, distance_m, nb_candidats, motif from idpar_match
    union all
    select num_immat, idtup, methode, distance_m, nb_candidats, motif from geoloc_match
    union all
    select num_immat, idtup, methode, distance_m, nb_candidats, motif from unmatched
)

select
    -- ids
    num_immat,
    cast(:millesime as smallint) as millesime,
    idtup,
    -- how and why
    methode,
    motif,
    nb_candidats::integer as nb_candidats,
    round(distance_m::numeric, 1) as distance_m
from matched
