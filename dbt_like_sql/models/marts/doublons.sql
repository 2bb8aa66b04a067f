-- coproff.doublons: pairs of referential rows suspected to describe the same copropriété.
-- One row per pair (idcopro_a < idcopro_b for two registrations; the registration first and the
-- FF-only row second otherwise), with its kind, a score in [0, 1] and the clues behind the score.
--
-- Kinds:
--   double_immatriculation  two registrations of one copropriété (typically a new syndic
--                           registering again while the old mandate expired). Flagged when the two
--                           (1) share a place: the same parcels/TUP or the same normalised address,
--                           (2) declare the same content: the same total and dwelling lots, and
--                           (3) show one more clue: the same règlement date, one mandate ended while
--                           the other runs, or the same name.
--                           Principal/secondary syndicates legitimately share an address and
--                           parcels: such pairs are never flagged.
--   double_compte_ff        a registration matched to a TUP where FF shows no copropriété, whose
--                           neighbouring TUP (touching: within doublons_tup_voisine_distance_max_m)
--                           holds an FF-only copropriété that looks like it: the same dwellings
--                           (the same dwellings: within doublons_ecart_logements_max dwellings or
--                           doublons_ecart_logements_part_max of the larger count; when the dwelling
--                           lots are not filled, FF dwellings between doublons_logements_lots_part_min
--                           of the dwelling+office+shop lots and that count plus
--                           doublons_ecart_logements_max) and a construction year that agrees:
--                           coherent with the declared period (widened by
--                           coherence_construction_marge_ans on each side, or not comparable), or
--                           within doublons_ecart_construction_tup_ans of the year FF gives the
--                           registration's own TUP (one building on two TUPs).
--                           Likely the TUP that should have matched: the copropriété is counted twice.
--   non_apparie_proche_ff   an unmatched registration with an FF-only copropriété within
--                           doublons_non_apparie_distance_max_m whose dwellings match its dwelling
--                           lots (the same dwellings, as above); the nearest one.
-- Every distance, tolerance, weight and score is a row of ref.parametres (code doublons_*).

with

-- import CTEs are inlined (not materialized) so that the planner sees the tables' statistics
coproff_base as not materialized (
    select *
    from intermediate.coproff_base
    where millesime = :millesime
),

tup as not materialized (
    select idtup, an_const, geomtup
    from intermediate.tup
    where millesime = :millesime
),

registration as not materialized (
    select *
    from intermediate.immatriculation_cle
    where millesime = :millesime
),

-- mandate labels of the registry: ended = not running (expired, or none declared)
mandats as (
    select libelle, not en_cours as termine
    from ref.mandats
),

-- the construction coherence margin (years on each side of a declared period) and the duplicate
-- rules' distances, tolerances, weights and scores (dbt_like_sql/reference/parametres.csv); shares,
-- weights and scores as numeric, as the literals they replace, so that sums and scores are exact
parametres as (
    select
        max(cast(valeur as integer)) filter (where code = 'coherence_construction_marge_ans') as marge_ans,
        max(valeur::float8) filter (where code = 'doublons_tup_voisine_distance_max_m') as voisine_distance_m,
        max(valeur::float8) filter (where code = 'doublons_non_apparie_distance_max_m') as non_apparie_distance_m,
        max(valeur::numeric) filter (where code = 'doublons_ecart_logements_max') as ecart_logements_max,
        max(valeur::numeric) filter (where code = 'doublons_ecart_logements_part_max') as ecart_logements_part_max,
        max(valeur::numeric) filter (where code = 'doublons_logements_lots_part_min') as logements_lots_part_min,
        max(valeur::numeric) filter (where code = 'doublons_ecart_construction_tup_ans') as ecart_construction_tup_ans,
        max(valeur::numeric) filter (where code = 'doublons_poids_meme_parcelle') as poids_meme_parcelle,
        max(valeur::numeric) filter (where code = 'doublons_poids_meme_adresse') as poids_meme_adresse,
        max(valeur::numeric) filter (where code = 'doublons_poids_memes_lots') as poids_memes_lots,
        max(valeur::numeric) filter (where code = 'doublons_poids_meme_reglement') as poids_meme_reglement,
        max(valeur::numeric) filter (where code = 'doublons_poids_un_mandat_termine') as poids_un_mandat_termine,
        max(valeur::numeric) filter (where code = 'doublons_poids_meme_nom') as poids_meme_nom,
        max(valeur::numeric) filter (where code = 'doublons_score_double_compte_ff_memes_logements')
            as score_memes_logements,
        max(valeur::numeric) filter (where code = 'doublons_score_double_compte_ff_ecart_logements')
            as score_ecart_logements,
        max(valeur::numeric) filter (where code = 'doublons_score_double_compte_ff_lots_hab_non_renseignes')
            as score_lots_hab_non_renseignes,
        max(valeur::float8) filter (where code = 'doublons_non_apparie_score_distance_nulle_m') as score_distance_nulle_m
    from ref.parametres
),

-- FF-only copropriétés with their TUP polygon (inlined, so that lookups use the TUP spatial index)
ff_only as not materialized (
    select coproff_base.idcopro, coproff_base.nloghcopro, coproff_base.an_const, coproff_base.geom, tup.geomtup
    from coproff_base
    inner join tup on tup.idtup = coproff_base.idtup
    where coproff_base.situation = 'ff_only'
),

-- Kind double_immatriculation ------------------------------------------------------------------

-- candidate pairs: the same matched TUP (registrations sharing a cadastral reference reach the
-- same TUP in matching step 1), or the same address key
candidate_pair as (
    select a.num_immat as num_immat_a, b.num_immat as num_immat_b
    from registration as a
    inner join registration as b on b.idtup = a.idtup and a.num_immat < b.num_immat
    union
    select a.num_immat, b.num_immat
    from registration as a
    inner join registration as b on b.adresse_cle = a.adresse_cle and a.num_immat < b.num_immat
),

pair_clues as (
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
        -- the same declared lots (total and dwellings): a re-registration copies the copropriété
        coalesce(a.lots_total = b.lots_total and a.lots_hab = b.lots_hab, false) as memes_lots,
        coalesce(a.date_reglement = b.date_reglement, false) as meme_reglement,
        -- one mandate ended (expired, or none running) while the other is not; a label outside
        -- ref.mandats counts as not ended, a missing one compares to nothing
        coalesce(
            case when a.mandat is not null then coalesce(mandat_a.termine, false) end
            <> case when b.mandat is not null then coalesce(mandat_b.termine, false) end,
            false
        ) as un_mandat_termine,
        coalesce(a.nom = b.nom, false) as meme_nom,
        ST_Distance(a.geom::geography, b.geom::geography) as distance_m
    from candidate_pair
    inner join registration as a on a.num_immat = candidate_pair.num_immat_a
    inner join registration as b on b.num_immat = candidate_pair.num_immat_b
    left join mandats as mandat_a on mandat_a.libelle = a.mandat
    left join mandats as mandat_b on mandat_b.libelle = b.mandat
),

-- flagged: a shared place, the same lots and one more clue (see the header); the score ranks the
-- pairs: the sum of the weights (doublons_poids_*) of the clues present, at most 1
double_immatriculation as (
    select
        idcopro_a,
        idcopro_b,
        num_immat_a,
        num_immat_b,
        'double_immatriculation' as kind,
        least(1.0,
            parametres.poids_meme_parcelle * meme_parcelle::int
            + parametres.poids_meme_adresse * meme_adresse::int
            + parametres.poids_memes_lots * memes_lots::int
            + parametres.poids_meme_reglement * meme_reglement::int
            + parametres.poids_un_mandat_termine * un_mandat_termine::int
            + parametres.poids_meme_nom * meme_nom::int
        ) as score,
        concat_ws(', ',
            case when meme_parcelle then 'meme_parcelle' end,
            case when meme_adresse then 'meme_adresse' end,
            case when memes_lots then 'memes_lots' end,
            case when meme_reglement then 'meme_reglement' end,
            case when un_mandat_termine then 'un_mandat_termine' end,
            case when meme_nom then 'meme_nom' end
        ) as reason,
        distance_m
    from pair_clues
    cross join parametres
    where not principal_secondaire
      and (meme_parcelle or meme_adresse)
      and memes_lots
      and (meme_reglement or un_mandat_termine or meme_nom)
),

-- Kind double_compte_ff -----------------------------------------------------------------------

-- a registration on a TUP where FF shows no copropriété; an FF-only copropriété on a TUP touching
-- it with the same dwellings and a coherent construction year (see the header); the closest
-- dwelling count, then the nearest. The score: the same dwellings exactly, a small gap, or the
-- dwelling lots not filled (compared with the dwelling+office+shop lots)
double_compte_ff as (
    select
        registration.idcopro as idcopro_a,
        neighbour.idcopro as idcopro_b,
        registration.num_immat as num_immat_a,
        null::char(9) as num_immat_b,
        'double_compte_ff' as kind,
        case
            when neighbour.ecart_logements = 0 then parametres.score_memes_logements
            when registration.lots_hab is null then parametres.score_lots_hab_non_renseignes
            else parametres.score_ecart_logements
        end as score,
        'tup_sans_copro_ff, tup_voisine_copro_ff_seule, ecart_logements_'
            || coalesce(neighbour.ecart_logements::text, 'lots_hab_non_renseignes') as reason,
        neighbour.distance_m
    from registration
    inner join tup as own_tup on own_tup.idtup = registration.idtup
    cross join parametres
    cross join lateral (
        select
            ff_only.idcopro,
            abs(ff_only.nloghcopro - registration.lots_hab) as ecart_logements,
            ST_Distance(registration.geom::geography, ff_only.geom::geography) as distance_m
        from ff_only
        -- (the && box of ±distance/50 km in degrees covers the distance below 63° of latitude, as in
        -- tup_match)
        where ff_only.geomtup && ST_Expand(own_tup.geomtup, parametres.voisine_distance_m / 50000.0)
          and ST_DWithin(own_tup.geomtup::geography, ff_only.geomtup::geography, parametres.voisine_distance_m)
          -- the same dwellings
          and case
              when registration.lots_hab is not null then
                  abs(ff_only.nloghcopro - registration.lots_hab)
                  <= greatest(parametres.ecart_logements_max,
                              parametres.ecart_logements_part_max * greatest(ff_only.nloghcopro, registration.lots_hab))
              else
                  ff_only.nloghcopro between parametres.logements_lots_part_min * registration.lots_hab_bur_com
                                         and registration.lots_hab_bur_com + parametres.ecart_logements_max
          end
          -- a construction year coherent with the declared period (or not comparable), or close
          -- to the year FF gives the registration's own TUP
          and (
              coalesce(
                  (registration.periode_debut is null or ff_only.an_const >= registration.periode_debut - parametres.marge_ans)
                  and (registration.periode_fin is null or ff_only.an_const <= registration.periode_fin + parametres.marge_ans),
                  true
              )
              or abs(ff_only.an_const - own_tup.an_const) <= parametres.ecart_construction_tup_ans
          )
        order by ecart_logements nulls last, distance_m, ff_only.idcopro
        limit 1
    ) as neighbour
    where registration.tup_sans_copro_ff
),

-- Kind non_apparie_proche_ff ------------------------------------------------------------------

-- an unmatched registration; the nearest FF-only copropriété within
-- doublons_non_apparie_distance_max_m with the same dwellings (as above); the score falls linearly
-- with the distance, to 0 at doublons_non_apparie_score_distance_nulle_m
non_apparie_proche_ff as (
    select
        registration.idcopro as idcopro_a,
        nearest.idcopro as idcopro_b,
        registration.num_immat as num_immat_a,
        null::char(9) as num_immat_b,
        'non_apparie_proche_ff' as kind,
        round((1 - nearest.distance_m / parametres.score_distance_nulle_m)::numeric, 2)::float8 as score,
        'non_apparie, copro_ff_seule_a_' || round(nearest.distance_m::numeric) || 'm, ecart_logements_'
            || nearest.ecart_logements as reason,
        nearest.distance_m
    from registration
    cross join parametres
    cross join lateral (
        select
            ff_only.idcopro,
            abs(ff_only.nloghcopro - registration.lots_hab) as ecart_logements,
            ST_Distance(registration.geom::geography, ff_only.geomtup::geography) as distance_m
        from ff_only
        where ff_only.geomtup && ST_Expand(registration.geom, parametres.non_apparie_distance_m / 50000.0)
          and ST_DWithin(registration.geom::geography, ff_only.geomtup::geography, parametres.non_apparie_distance_m)
          and abs(ff_only.nloghcopro - registration.lots_hab)
              <= greatest(parametres.ecart_logements_max,
                          parametres.ecart_logements_part_max * greatest(ff_only.nloghcopro, registration.lots_hab))
        order by distance_m, ecart_logements, ff_only.idcopro
        limit 1
    ) as nearest
    where registration.situation = 'rnic_unmatched'
),

pairs as (
    select * from double_immatriculation
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
