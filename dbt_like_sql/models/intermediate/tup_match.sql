-- intermediate.tup_match: each registration (RNIC) of the millésime attached to at most one TUP.
--
-- The rules are applied in order; a registration takes the first step that gives it a TUP.
--   Step 1 (methode 'idpar'): its cadastral references (normalised idpar, every listed reference)
--          lead to parcels (intermediate.parcelle: FF parcels, or open-cadastre parcels), hence to
--          their TUPs. A TUP is accepted when the RNIC point lies within reference_distance_max_m
--          of the referenced parcel, or when the registration has no usable point (missing, or
--          imprecise: both coordinates given with point_imprecis_decimales_max decimals or fewer,
--          as the truncated `45.75` of real rows). When the accepted
--          references lead to several TUPs, one is picked deterministically (1b) and the reason
--          code names the deciding criterion. Before that (1c), a reference that led nowhere
--          (absent from the parcels, or too far) may designate the TUP at the point instead of the
--          row neighbours the other references name.
--   Step 2 (methode 'geoloc'): for a precise point only, among the TUPs of the registration's own
--          département (FF are delivered per département; a point across a border designates a
--          building of the declared département):
--          2a the TUP whose polygon contains the RNIC point;
--          2b else, the point being an address point on the façade or the street edge, the TUPs
--             within geoloc_facade_distance_max_m of it, whatever FF says of copropriétés;
--          2c else the nearest TUP holding an FF copropriété within geoloc_copro_ff_distance_max_m
--             of the point.
--          A registration whose references were absent from the parcels (a parcel divided or
--          renumbered since) or too far from the point reaches this step with a reason code saying
--          so (suffix _reference_absente / _reference_lointaine); its references are still clues
--          when several TUPs are candidates (a section typo whose numéro exists at the point, a
--          numéro from before or after a division in the point's own section).
--   Step 3 (methode 'none'): no TUP; the reason says why.
-- Distances are in metres, measured on the WGS84 ellipsoid (geography). Every distance and the
-- imprecision threshold are read from ref.parametres (dbt_like_sql/reference/parametres.csv).

with

parametres as (
    select
        max(case when code = 'reference_distance_max_m' then valeur::float8 end) as reference_distance_max_m,
        max(case when code = 'geoloc_facade_distance_max_m' then valeur::float8 end) as facade_distance_max_m,
        max(case when code = 'geoloc_copro_ff_distance_max_m' then valeur::float8 end) as copro_ff_distance_max_m,
        max(case when code = 'reference_tup_au_point_marge_m' then valeur::float8 end) as tup_au_point_marge_m,
        max(case when code = 'point_imprecis_decimales_max' then valeur::integer end) as decimales_max
    from ref.parametres
),

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

parcelle as not materialized (
    select
        idpar,
        idtup,
        idcom,
        section,
        numero,
        geompar
    from intermediate.parcelle
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

-- a point whose two coordinates carry point_imprecis_decimales_max decimals or fewer is imprecise
-- (±100 m or worse): it can neither confirm nor reject a reference, nor locate a TUP
rnic as (
    select
        rnic_staged.num_immat,
        rnic_staged.l_idpar,
        rnic_staged.lots_hab,
        rnic_staged.code_departement,
        rnic_staged.code_commune,
        rnic_staged.geom,
        (
            rnic_staged.geom is not null
            and round(ST_X(rnic_staged.geom)::numeric, parametres.decimales_max) = ST_X(rnic_staged.geom)::numeric
            and round(ST_Y(rnic_staged.geom)::numeric, parametres.decimales_max) = ST_Y(rnic_staged.geom)::numeric
        ) as point_imprecis
    from rnic_staged
    cross join parametres
),

-- Step 1 ----------------------------------------------------------------------------------------

-- one row per listed cadastral reference (idpar_1..3, already normalised by the loader: upper
-- case, Paris, Lyon and Marseille references rewritten in arrondissement form, one-letter sections
-- padded, references given as components only rebuilt)
rnic_reference as (
    select
        rnic.num_immat,
        ref.idpar
    from rnic
    cross join lateral unnest(rnic.l_idpar) as ref(idpar)
),

-- rule 1-O (reason code idpar_lettre_o_lue_zero): real rows write the letter O for the padding zero
-- of a one-letter section (`93010000OQ0025` for `930100000Q0025`, section Q). A reference is read as written and, when its section is O + a letter, also with that O read as 0;
-- the form as written is preferred (a real two-letter section starting with O is found first).
reference_form as (
    select num_immat, idpar, idpar as idpar_lu, false as lu_o_pour_zero
    from rnic_reference
    union all
    select num_immat, idpar, overlay(idpar placing '0' from 9 for 1) as idpar_lu, true as lu_o_pour_zero
    from rnic_reference
    where substr(idpar, 9, 1) = 'O' and substr(idpar, 10, 1) between 'A' and 'Z'
),

-- the parcel each reference names (first form found), with the distance from the RNIC point to it
reference_parcel_found as (
    select
        reference_form.num_immat,
        reference_form.idpar,
        reference_form.lu_o_pour_zero,
        parcelle.idtup,
        parcelle.geompar,
        row_number() over (
            partition by reference_form.num_immat, reference_form.idpar
            order by reference_form.lu_o_pour_zero
        ) as rang_forme
    from reference_form
    inner join parcelle on parcelle.idpar = reference_form.idpar_lu
    where parcelle.idtup is not null
),

reference_parcel as (
    select
        reference_parcel_found.num_immat,
        reference_parcel_found.idpar,
        reference_parcel_found.lu_o_pour_zero,
        reference_parcel_found.idtup,
        case
            when not rnic.point_imprecis
                then ST_Distance(rnic.geom::geography, reference_parcel_found.geompar::geography)
        end as distance_m
    from reference_parcel_found
    inner join rnic on rnic.num_immat = reference_parcel_found.num_immat
    where reference_parcel_found.rang_forme = 1
),

-- rule 1a: a reference is accepted when the point is within reference_distance_max_m of its
-- parcel, or when there is no usable point (distance_m is NULL: point missing or imprecise)
reference_accepted as (
    select
        reference_parcel.num_immat,
        reference_parcel.idtup,
        count(*) as nb_references,
        bool_and(reference_parcel.lu_o_pour_zero) as lu_o_pour_zero,
        min(reference_parcel.distance_m) as distance_m
    from reference_parcel
    cross join parametres
    where reference_parcel.distance_m is null
       or reference_parcel.distance_m <= parametres.reference_distance_max_m
    group by reference_parcel.num_immat, reference_parcel.idtup
),

-- registrations with at least one reference found among the parcels
-- (lookups against CTEs are joins, never a correlated EXISTS in a select list or a CASE: that is
-- a scan of the whole CTE per row: the national build had not finished it after 15 min)
reference_found as (
    select distinct num_immat
    from reference_parcel
),

-- the references that led nowhere, for registrations with a precise point: absent from the
-- parcels (absente), or found beyond reference_distance_max_m of the point (lointaine)
-- (reference_parcel has one row per registration and reference: the left join keeps the rows)
reference_unused as (
    select
        rnic_reference.num_immat,
        rnic_reference.idpar,
        reference_parcel.num_immat is null as absente
    from rnic_reference
    inner join rnic on rnic.num_immat = rnic_reference.num_immat
    cross join parametres
    left join reference_parcel
        on reference_parcel.num_immat = rnic_reference.num_immat
       and reference_parcel.idpar = rnic_reference.idpar
    where rnic.geom is not null
      and not rnic.point_imprecis
      and not coalesce(reference_parcel.distance_m <= parametres.reference_distance_max_m, false)
),

-- the TUP at the point of the registrations that have both accepted references and references
-- that led nowhere: the TUP containing the point, else the nearest within the façade tolerance
-- (of the declared département, as in step 2; box of ±tolerance/50 km in degrees, as in 2b)
reference_point_tup as (
    select distinct on (rnic.num_immat)
        rnic.num_immat,
        tup.idtup,
        ST_Distance(rnic.geom::geography, tup.geomtup::geography) as distance_m
    from rnic
    cross join parametres
    inner join tup
        on tup.geomtup && ST_Expand(rnic.geom, parametres.facade_distance_max_m / 50000.0)
       and tup.code_departement = coalesce(rnic.code_departement, tup.code_departement)
       and ST_DWithin(rnic.geom::geography, tup.geomtup::geography, parametres.facade_distance_max_m)
    where exists (select 1 from reference_unused where reference_unused.num_immat = rnic.num_immat)
      and exists (select 1 from reference_accepted where reference_accepted.num_immat = rnic.num_immat)
    order by rnic.num_immat, ST_Distance(rnic.geom::geography, tup.geomtup::geography), tup.idtup
),

-- rule 1c (reason codes idpar_reference_absente_tup_au_point, idpar_reference_lointaine_tup_au_point):
-- the TUP at the point wins over the accepted references when none of them names it, it is nearer
-- to the point than all of them by reference_tup_au_point_marge_m at least (a point a metre or so
-- from both is within the precision of an address point: the found reference keeps it), and a
-- reference that led nowhere points to it: an absent one by
-- its section (a numéro from before or after a division or renumbering in the point's own
-- section, the commonest absent reference of real rows), a far one by its numéro (a section typo:
-- `Y0131` for `T0131`). The address point designates the building; such a registration's other
-- references name the parcels of its row, and taking the nearest of them would take a neighbour.
-- (a section written with the letter O for the padding zero is compared as read, `OQ` as `0Q`)
reference_point_match as (
    select
        reference_point_tup.num_immat,
        reference_point_tup.idtup,
        reference_point_tup.distance_m,
        bool_or(reference_unused.absente) as par_reference_absente
    from reference_point_tup
    inner join reference_unused on reference_unused.num_immat = reference_point_tup.num_immat
    inner join parcelle
        on parcelle.idtup = reference_point_tup.idtup
       and parcelle.idcom = substr(reference_unused.idpar, 1, 5)
       and (
           (reference_unused.absente
            and (parcelle.section = substr(reference_unused.idpar, 9, 2)
                 or (substr(reference_unused.idpar, 9, 1) = 'O'
                     and parcelle.section = '0' || substr(reference_unused.idpar, 10, 1))))
           or (not reference_unused.absente and parcelle.numero = substr(reference_unused.idpar, 11, 4))
       )
    cross join parametres
    where not exists (
        select 1 from reference_accepted
        where reference_accepted.num_immat = reference_point_tup.num_immat
          and (reference_accepted.idtup = reference_point_tup.idtup
               or reference_accepted.distance_m
                  < reference_point_tup.distance_m + parametres.tup_au_point_marge_m)
    )
    group by reference_point_tup.num_immat, reference_point_tup.idtup, reference_point_tup.distance_m
),

-- the accepted TUP at the point: the nearest accepted TUP, within the façade tolerance of the
-- point and nearer than every other accepted one by reference_tup_au_point_marge_m at least (as in
-- rule 1c: closer than that, two TUPs are within the precision of an address point)
reference_accepted_au_point as (
    select
        reference_accepted.*,
        coalesce(
            rang_distance = 1
            and reference_accepted.distance_m <= parametres.facade_distance_max_m
            and (distance_m_suivante is null
                 or reference_accepted.distance_m + parametres.tup_au_point_marge_m <= distance_m_suivante),
            false
        ) as au_point,
        max(reference_accepted.nb_references) over (partition by reference_accepted.num_immat) as nb_references_max
    from (
        select
            reference_accepted.*,
            row_number() over by_distance as rang_distance,
            lead(reference_accepted.distance_m) over by_distance as distance_m_suivante
        from reference_accepted
        window by_distance as (
            partition by reference_accepted.num_immat
            order by reference_accepted.distance_m asc nulls last, reference_accepted.idtup
        )
    ) as reference_accepted
    cross join parametres
),

-- rule 1b: several TUPs → the TUP at the point (above), then the one most references lead to, then
-- the nearest to the point to the metre (the registry point is an address point: it designates the
-- building it fronts; a metre is about the precision of BAN points), then among equally near ones
-- the one holding an FF copropriété, then the nearest, then the smallest idtup (deterministic).
-- The TUP at the point comes before the reference count (reason code idpar_plusieurs_tup_au_point
-- when it wins with fewer references): the count says how many of the listed parcels a TUP
-- holds, not which one the copropriété's building stands on. A registration lists its address
-- parcel and parcels of its row (real rows: three references, up to 10 parcels declared); when a
-- neighbouring TUP of two parcels is among them, the count would take the neighbour although the
-- address point designates the building (with one reference each, 1b already takes the point's).
-- Without a usable point, or with no accepted TUP clearly nearer than the others, the count decides.
idpar_ranked as (
    select
        reference_accepted.num_immat,
        reference_accepted.idtup,
        reference_accepted.distance_m,
        reference_accepted.nb_references,
        reference_accepted.nb_references_max,
        reference_accepted.au_point,
        reference_accepted.lu_o_pour_zero,
        tup.copro_ff,
        count(*) over (partition by reference_accepted.num_immat) as nb_candidats,
        row_number() over by_rule as rang,
        -- the runner-up, to record which criterion decided
        lead(reference_accepted.nb_references) over by_rule as nb_references_suivant,
        lead(tup.copro_ff) over by_rule as copro_ff_suivant,
        lead(reference_accepted.distance_m) over by_rule as distance_m_suivant
    from reference_accepted_au_point as reference_accepted
    inner join tup on tup.idtup = reference_accepted.idtup
    window by_rule as (
        partition by reference_accepted.num_immat
        order by
            reference_accepted.au_point desc,
            reference_accepted.nb_references desc,
            round(reference_accepted.distance_m) asc nulls last,
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
            when nb_candidats > 1 and au_point and nb_references < nb_references_max
                then 'idpar_plusieurs_tup_au_point'
            when nb_candidats > 1 and nb_references > nb_references_suivant
                then 'idpar_plusieurs_tup_plus_de_references'
            when nb_candidats > 1 and round(distance_m) < round(distance_m_suivant)
                then 'idpar_plusieurs_tup_plus_proche'
            when nb_candidats > 1 and copro_ff and not copro_ff_suivant
                then 'idpar_plusieurs_tup_seule_copro_ff'
            when nb_candidats > 1 and distance_m < distance_m_suivant
                then 'idpar_plusieurs_tup_plus_proche'
            when nb_candidats > 1
                then 'idpar_plusieurs_tup_plus_petit_idtup'
            when lu_o_pour_zero then 'idpar_lettre_o_lue_zero'
            when distance_m is null then 'idpar_sans_point_precis'
            else 'idpar_point_a_moins_de_100m'
        end as motif
    from idpar_ranked
    where rang = 1
      and not exists (select 1 from reference_point_match where reference_point_match.num_immat = idpar_ranked.num_immat)
    union all
    select
        reference_point_match.num_immat,
        reference_point_match.idtup,
        'idpar' as methode,
        reference_point_match.distance_m,
        1 + reference_accepted_count.nb_tup as nb_candidats,
        case
            when reference_point_match.par_reference_absente then 'idpar_reference_absente_tup_au_point'
            else 'idpar_reference_lointaine_tup_au_point'
        end as motif
    from reference_point_match
    inner join (
        select num_immat, count(*) as nb_tup from reference_accepted group by num_immat
    ) as reference_accepted_count on reference_accepted_count.num_immat = reference_point_match.num_immat
),

-- Step 2 ----------------------------------------------------------------------------------------

-- what became of the references of the registrations step 1 left without a TUP: none listed,
-- none found among the parcels (absente: divided or renumbered since, or mistyped), or found but
-- too far from the point (lointaine)
reference_status as (
    select
        rnic.num_immat,
        case
            when cardinality(rnic.l_idpar) = 0 then ''
            when reference_found.num_immat is null then '_reference_absente'
            else '_reference_lointaine'
        end as suffixe_reference
    from rnic
    left join reference_found on reference_found.num_immat = rnic.num_immat
    where not exists (select 1 from idpar_match where idpar_match.num_immat = rnic.num_immat)
),

-- registrations step 1 left without a TUP, that have a precise point
to_locate as (
    select
        rnic.num_immat,
        rnic.lots_hab,
        rnic.code_departement,
        rnic.code_commune,
        rnic.geom,
        reference_status.suffixe_reference
    from rnic
    inner join reference_status on reference_status.num_immat = rnic.num_immat
    where rnic.geom is not null
      and not rnic.point_imprecis
),

-- rule 2a: the TUPs of the registration's département whose polygon contains the point
geoloc_contains_candidates as (
    select
        to_locate.num_immat,
        tup.idtup,
        0::float8 as distance_m,
        coalesce(tup.idcom = to_locate.code_commune, false) as commune_declaree,
        tup.copro_ff
    from to_locate
    inner join tup
        on ST_Intersects(tup.geomtup, to_locate.geom)
       and tup.code_departement = coalesce(to_locate.code_departement, tup.code_departement)
),

-- rule 2b: else the TUPs of the registration's département within the façade tolerance of the
-- point, whatever FF says of copropriétés. The registry point is an address point (BAN) on the
-- façade or the street edge: measured on real rows of a suburban commune, 70% lie outside every
-- parcel, 65% within 3 m, the farthest 9.2 m, none beyond 10 m. geoloc_facade_distance_max_m is
-- those 10 m and half as much again, for wider streets and squares than that commune's; the
-- nearest TUP is taken, so the tolerance only decides when a point is too far from every parcel
-- to be on a façade (then 2c, or no match).
-- (the && box of ±tolerance/50 km in degrees covers the tolerance wherever a degree of longitude
-- spans ≥ 50 km, i.e. below 63° of latitude: all of France, lets the spatial index prune first)
geoloc_facade_candidates as (
    select
        to_locate.num_immat,
        tup.idtup,
        ST_Distance(to_locate.geom::geography, tup.geomtup::geography) as distance_m,
        coalesce(tup.idcom = to_locate.code_commune, false) as commune_declaree,
        tup.copro_ff
    from to_locate
    cross join parametres
    inner join tup
        on tup.geomtup && ST_Expand(to_locate.geom, parametres.facade_distance_max_m / 50000.0)
       and tup.code_departement = coalesce(to_locate.code_departement, tup.code_departement)
       and ST_DWithin(to_locate.geom::geography, tup.geomtup::geography, parametres.facade_distance_max_m)
    where not exists (
        select 1 from geoloc_contains_candidates
        where geoloc_contains_candidates.num_immat = to_locate.num_immat
    )
),

geoloc_local_candidates as (
    select 'geoloc_point_dans_tup' as regle, * from geoloc_contains_candidates
    union all
    select 'geoloc_facade' as regle, * from geoloc_facade_candidates
),

-- the clue a registration's (unused) references give about a candidate TUP: 2 when a parcel of
-- the TUP in the reference's commune has the reference's numéro (a section typo: `Y0131` for
-- `T0131`), 1 when one lies in the reference's section (a numéro from before or after a division
-- or renumbering in the point's own section), 0 otherwise. A clue only ranks candidates found at
-- the point; it never matches by itself.
geoloc_clue as (
    select
        geoloc_local_candidates.num_immat,
        geoloc_local_candidates.idtup,
        max(
            case
                when parcelle.numero = substr(rnic_reference.idpar, 11, 4) then 2
                when parcelle.section = substr(rnic_reference.idpar, 9, 2) then 1
                else 0
            end
        ) as indice_reference
    from geoloc_local_candidates
    inner join rnic_reference on rnic_reference.num_immat = geoloc_local_candidates.num_immat
    inner join parcelle
        on parcelle.idtup = geoloc_local_candidates.idtup
       and parcelle.idcom = substr(rnic_reference.idpar, 1, 5)
    group by geoloc_local_candidates.num_immat, geoloc_local_candidates.idtup
),

-- tie-breaks among the TUPs at the point (2a) or within the façade tolerance (2b): the TUP of the
-- declared commune, then the strongest reference clue, then the nearest to the metre (as in 1b),
-- then among equally near ones the one holding an FF copropriété, then the nearest, then the
-- smallest idtup (deterministic)
geoloc_local_ranked as (
    select
        geoloc_local_candidates.regle,
        geoloc_local_candidates.num_immat,
        geoloc_local_candidates.idtup,
        geoloc_local_candidates.distance_m,
        geoloc_local_candidates.commune_declaree,
        coalesce(geoloc_clue.indice_reference, 0) as indice_reference,
        geoloc_local_candidates.copro_ff,
        count(*) over (partition by geoloc_local_candidates.num_immat) as nb_candidats,
        row_number() over by_rule as rang,
        lead(geoloc_local_candidates.commune_declaree) over by_rule as commune_declaree_suivant,
        lead(coalesce(geoloc_clue.indice_reference, 0)) over by_rule as indice_reference_suivant,
        lead(geoloc_local_candidates.copro_ff) over by_rule as copro_ff_suivant,
        lead(geoloc_local_candidates.distance_m) over by_rule as distance_m_suivant
    from geoloc_local_candidates
    left join geoloc_clue
        on geoloc_clue.num_immat = geoloc_local_candidates.num_immat
       and geoloc_clue.idtup = geoloc_local_candidates.idtup
    window by_rule as (
        partition by geoloc_local_candidates.num_immat
        order by
            geoloc_local_candidates.commune_declaree desc,
            coalesce(geoloc_clue.indice_reference, 0) desc,
            round(geoloc_local_candidates.distance_m),
            geoloc_local_candidates.copro_ff desc,
            geoloc_local_candidates.distance_m,
            geoloc_local_candidates.idtup
    )
),

geoloc_local_match as (
    select
        num_immat,
        idtup,
        distance_m,
        nb_candidats,
        regle || case
            when nb_candidats = 1 then ''
            when commune_declaree and not commune_declaree_suivant then '_commune_declaree'
            when indice_reference = 2 and indice_reference_suivant < 2 then '_indice_numero'
            when indice_reference = 1 and indice_reference_suivant < 1 then '_indice_section'
            when round(distance_m) < round(distance_m_suivant) then '_plus_proche'
            when copro_ff and not copro_ff_suivant then '_seule_copro_ff'
            when distance_m < distance_m_suivant then '_plus_proche'
            else '_plus_petit_idtup'
        end as motif_geoloc
    from geoloc_local_ranked
    where rang = 1
),

-- rule 2c: else the TUPs of the registration's département holding an FF copropriété within
-- geoloc_copro_ff_distance_max_m of the point (box of ±distance/50 km in degrees, as in 2b)
geoloc_near_candidates as (
    select
        to_locate.num_immat,
        tup.idtup,
        ST_Distance(to_locate.geom::geography, tup.geomtup::geography) as distance_m,
        abs(coalesce(tup.nloghcopro, 0) - coalesce(to_locate.lots_hab, 0)) as ecart_logements
    from to_locate
    cross join parametres
    inner join tup
        on tup.geomtup && ST_Expand(to_locate.geom, parametres.copro_ff_distance_max_m / 50000.0)
       and tup.copro_ff
       and tup.code_departement = coalesce(to_locate.code_departement, tup.code_departement)
       and ST_DWithin(to_locate.geom::geography, tup.geomtup::geography, parametres.copro_ff_distance_max_m)
    where not exists (select 1 from geoloc_local_match where geoloc_local_match.num_immat = to_locate.num_immat)
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
    select
        geoloc_local_match.num_immat,
        geoloc_local_match.idtup,
        'geoloc' as methode,
        geoloc_local_match.distance_m,
        geoloc_local_match.nb_candidats,
        geoloc_local_match.motif_geoloc || to_locate.suffixe_reference as motif
    from geoloc_local_match
    inner join to_locate on to_locate.num_immat = geoloc_local_match.num_immat
    union all
    select
        geoloc_near_ranked.num_immat,
        geoloc_near_ranked.idtup,
        'geoloc' as methode,
        geoloc_near_ranked.distance_m,
        geoloc_near_ranked.nb_candidats,
        'geoloc_tup_copro_ff_a_moins_de_100m' || to_locate.suffixe_reference as motif
    from geoloc_near_ranked
    inner join to_locate on to_locate.num_immat = geoloc_near_ranked.num_immat
    where geoloc_near_ranked.rang = 1
),

-- Step 3 ----------------------------------------------------------------------------------------

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
                then 'none_references_absentes_des_parcelles_sans_point'
            when cardinality(rnic.l_idpar) > 0 and rnic.point_imprecis
                then 'none_references_absentes_des_parcelles_point_imprecis'
            when cardinality(rnic.l_idpar) > 0
                then 'none_references_absentes_des_parcelles_aucune_tup_au_point'
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
