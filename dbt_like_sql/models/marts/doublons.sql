-- coproff.doublons: pairs of referential rows suspected to describe the same copropriété.
-- One row per pair (idcopro_a < idcopro_b for two registrations; registration first, FF row second
-- otherwise), with its kind, a score in [0, 1] and the reasons that built the score.
--
-- Kinds:
--   double_immatriculation  two registrations of one copropriété: same parcels/TUP and/or same
--                           normalised address, typically a new syndic registering again while
--                           the old mandate expired. Principal/secondary syndicates legitimately
--                           share an address and parcels: such pairs are never flagged.
--   double_compte_ff        a registration matched to a TUP where FF shows no copropriété, near an
--                           FF-only copropriété (likely the TUP that should have matched).
--   non_apparie_proche_ff   an unmatched registration near an FF-only copropriété with similar
--                           dwellings.

with

coproff_base as (
    select *
    from intermediate.coproff_base
    where millesime = :millesime
),

rnic as (
    select num_immat, l_idpar
    from staging.rnic
    where millesime = :millesime
),

-- registrations with a normalised address key: postcode + street, lower case, without accents,
-- punctuation or repeated spaces
registration as (
    select
        coproff_base.idcopro,
        coproff_base.num_immat,
        coproff_base.idtup,
        coproff_base.situation,
        coproff_base.tup_sans_copro_ff,
        coproff_base.lots_total,
        coproff_base.lots_hab,
        coproff_base.mandat,
        coproff_base.date_immat,
        coproff_base.date_fin_mandat,
        coproff_base.syndicat_principal,
        coproff_base.num_immat_principal,
        lower(trim(coproff_base.nom_copro)) as nom,
        coproff_base.geom,
        rnic.l_idpar,
        nullif(
            coproff_base.code_postal || ' ' || trim(regexp_replace(
                translate(lower(coproff_base.numero_voie), 'àâäéèêëîïôöùûüçœ''-,.', 'aaaeeeeiioouuuce    '),
                '\s+', ' ', 'g')),
            ''
        ) as adresse_cle
    from coproff_base
    inner join rnic on rnic.num_immat = coproff_base.num_immat
),

ff_only as (
    select idcopro, idtup, nloghcopro, geom
    from coproff_base
    where situation = 'ff_only'
),

-- Kind double_immatriculation ------------------------------------------------------------------

-- candidate pairs: same matched TUP, a shared cadastral reference, or the same address key
registration_parcel as (
    select registration.num_immat, ref.idpar
    from registration
    cross join lateral unnest(registration.l_idpar) as ref(idpar)
),

candidate_pair as (
    select a.num_immat as num_immat_a, b.num_immat as num_immat_b
    from registration as a
    inner join registration as b on b.idtup = a.idtup and a.num_immat < b.num_immat
    union
    select a.num_immat, b.num_immat
    from registration_parcel as a
    inner join registration_parcel as b on b.idpar = a.idpar and a.num_immat < b.num_immat
    union
    select a.num_immat, b.num_immat
    from registration as a
    inner join registration as b on b.adresse_cle = a.adresse_cle and a.num_immat < b.num_immat
),

pair_signals as (
    select
        a.idcopro as idcopro_a,
        b.idcopro as idcopro_b,
        a.num_immat as num_immat_a,
        b.num_immat as num_immat_b,
        -- principal/secondary syndicates of one building are legitimate, never duplicates
        coalesce(
            a.num_immat_principal = b.num_immat
            or b.num_immat_principal = a.num_immat
            or a.num_immat_principal = b.num_immat_principal
            or a.syndicat_principal is false
            or b.syndicat_principal is false,
            false
        ) as principal_secondaire,
        coalesce(a.idtup = b.idtup or a.l_idpar && b.l_idpar, false) as meme_parcelle,
        coalesce(a.adresse_cle = b.adresse_cle, false) as meme_adresse,
        -- one mandate ended (expired, or none running) while the other registration is active
        (
            (a.mandat like 'Mandat expiré%' or a.mandat = 'Pas de mandat en cours')
            <> (b.mandat like 'Mandat expiré%' or b.mandat = 'Pas de mandat en cours')
        ) as un_mandat_termine,
        (
            abs(coalesce(a.lots_total, -1) - coalesce(b.lots_total, -1))
            <= greatest(1, 0.1 * greatest(a.lots_total, b.lots_total))
        ) as memes_lots,
        (a.nom = b.nom) as meme_nom,
        ST_Distance(a.geom::geography, b.geom::geography) as distance_m
    from candidate_pair
    inner join registration as a on a.num_immat = candidate_pair.num_immat_a
    inner join registration as b on b.num_immat = candidate_pair.num_immat_b
),

-- score: parcels 0.35, address 0.25, one mandate ended 0.25, same lot count 0.15, same name 0.10
double_immatriculation as (
    select
        idcopro_a,
        idcopro_b,
        num_immat_a,
        num_immat_b,
        'double_immatriculation' as kind,
        least(1.0,
            0.35 * meme_parcelle::int
            + 0.25 * coalesce(meme_adresse, false)::int
            + 0.25 * coalesce(un_mandat_termine, false)::int
            + 0.15 * coalesce(memes_lots, false)::int
            + 0.10 * coalesce(meme_nom, false)::int
        ) as score,
        concat_ws(', ',
            case when meme_parcelle then 'meme_parcelle' end,
            case when meme_adresse then 'meme_adresse' end,
            case when un_mandat_termine then 'un_mandat_termine' end,
            case when memes_lots then 'memes_lots' end,
            case when meme_nom then 'meme_nom' end
        ) as reason,
        distance_m
    from pair_signals
    where not principal_secondaire
),

-- Kind double_compte_ff -----------------------------------------------------------------------

-- a registration on a TUP where FF shows no copropriété, and an FF-only copropriété within 100 m
double_compte_ff as (
    select
        registration.idcopro as idcopro_a,
        nearest.idcopro as idcopro_b,
        registration.num_immat as num_immat_a,
        null::char(9) as num_immat_b,
        'double_compte_ff' as kind,
        round((1 - nearest.distance_m / 200)::numeric, 2)::float8 as score,
        'tup_sans_copro_ff, copro_ff_seule_a_' || round(nearest.distance_m::numeric) || 'm' as reason,
        nearest.distance_m
    from registration
    cross join lateral (
        select ff_only.idcopro, ST_Distance(registration.geom::geography, ff_only.geom::geography) as distance_m
        from ff_only
        where ff_only.geom && ST_Expand(registration.geom, 0.002)
          and ST_DWithin(registration.geom::geography, ff_only.geom::geography, 100)
        order by distance_m, ff_only.idcopro
        limit 1
    ) as nearest
    where registration.tup_sans_copro_ff
),

-- Kind non_apparie_proche_ff ------------------------------------------------------------------

-- an unmatched registration, an FF-only copropriété within 200 m with dwellings within 25 %
non_apparie_proche_ff as (
    select
        registration.idcopro as idcopro_a,
        nearest.idcopro as idcopro_b,
        registration.num_immat as num_immat_a,
        null::char(9) as num_immat_b,
        'non_apparie_proche_ff' as kind,
        round((1 - nearest.distance_m / 400)::numeric, 2)::float8 as score,
        'non_apparie, copro_ff_seule_a_' || round(nearest.distance_m::numeric) || 'm, logements_proches' as reason,
        nearest.distance_m
    from registration
    cross join lateral (
        select ff_only.idcopro, ST_Distance(registration.geom::geography, ff_only.geom::geography) as distance_m
        from ff_only
        where ff_only.geom && ST_Expand(registration.geom, 0.004)
          and ST_DWithin(registration.geom::geography, ff_only.geom::geography, 200)
          and abs(ff_only.nloghcopro - coalesce(registration.lots_hab, 0))
              <= greatest(1, 0.25 * greatest(ff_only.nloghcopro, registration.lots_hab))
        order by distance_m, ff_only.idcopro
        limit 1
    ) as nearest
    where registration.situation = 'rnic_unmatched'
),

pairs as (
    select * from double_immatriculation where score >= 0.6
    union all
    select * from double_compte_ff
    union all
    select * from non_apparie_proche_ff
)

select
    -- ids
    idcopro_a,
    idcopro_b,
    cast(:millesime as smallint) as millesime,
    num_immat_a,
    num_immat_b,
    -- suspicion
    kind,
    score::float8 as score,
    reason,
    round(distance_m::numeric, 1) as distance_m
from pairs
