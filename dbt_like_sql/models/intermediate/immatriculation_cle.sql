-- intermediate.immatriculation_cle: each registration of the millésime with the keys the duplicate
-- rules compare (coproff.doublons): normalised address key, cadastral references, construction
-- period as years, normalised name. A table of its own so that the planner has statistics on the
-- keys when pairing registrations.

with

coproff_base as not materialized (
    select *
    from intermediate.coproff_base
    where millesime = :millesime
),

rnic as not materialized (
    select num_immat, l_idpar
    from staging.rnic
    where millesime = :millesime
),

-- construction periods of the registry, as years (ref.periodes_construction; the duplicate rule
-- widens them by the coherence margin)
construction_period as (
    select code as p_constr, annee_min as first_year, annee_max as last_year
    from ref.periodes_construction
),

-- normalised address: lower case, no accents, punctuation as spaces, a number range keeps its first
-- number ("12-14 rue" = "12 rue"), street-type abbreviations expanded (r → rue, av → avenue,
-- bd → boulevard, all → allee, pl → place, rte → route, imp → impasse, che/chem → chemin,
-- fg/fbg → faubourg, sq → square, crs → cours, qu → quai, st/ste → saint/sainte)
address_plain as not materialized (
    select
        num_immat,
        regexp_replace(
            trim(regexp_replace(
                translate(lower(numero_voie), 'àâäéèêëîïôöùûüÿçœ', 'aaaeeeeiioouuuyce'),
                '[^a-z0-9]+', ' ', 'g'
            )),
            '^([0-9]+)( [0-9]+)+ ', '\1 '
        ) as words
    from coproff_base
    where num_immat is not null
),

address_key as not materialized (
    select
        num_immat,
        regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        regexp_replace(regexp_replace(
            words,
            '\mr\M', 'rue', 'g'),
            '\mave?\M', 'avenue', 'g'),
            '\m(bd|bld|boul)\M', 'boulevard', 'g'),
            '\mall\M', 'allee', 'g'),
            '\mpl\M', 'place', 'g'),
            '\mrte\M', 'route', 'g'),
            '\mimp\M', 'impasse', 'g'),
            '\mchem?\M', 'chemin', 'g'),
            '\mf(g|bg)\M', 'faubourg', 'g'),
            '\msq\M', 'square', 'g'),
            '\mcrs\M', 'cours', 'g'),
            '\mqu\M', 'quai', 'g'),
            '\mst\M', 'saint', 'g'),
            '\mste\M', 'sainte', 'g') as words
    from address_plain
),

registration as (
    select
        coproff_base.num_immat,
        cast(:millesime as smallint) as millesime,
        coproff_base.idcopro,
        coproff_base.idtup,
        coproff_base.situation,
        coproff_base.tup_sans_copro_ff,
        coproff_base.lots_total,
        coproff_base.lots_hab,
        coproff_base.lots_hab_bur_com,
        construction_period.first_year as periode_debut,
        construction_period.last_year as periode_fin,
        coproff_base.date_reglement,
        coproff_base.mandat,
        coproff_base.syndicat_principal,
        coproff_base.num_immat_principal,
        nullif(lower(trim(coproff_base.nom_copro)), '') as nom,
        coproff_base.geom,
        rnic.l_idpar,
        coproff_base.code_postal || ' ' || address_key.words as adresse_cle
    from coproff_base
    inner join rnic on rnic.num_immat = coproff_base.num_immat
    left join address_key on address_key.num_immat = coproff_base.num_immat
    left join construction_period on construction_period.p_constr = coproff_base.p_constr
)

select
    -- ids
    num_immat,
    millesime,
    idcopro,
    idtup,
    -- situation
    situation,
    tup_sans_copro_ff,
    -- declared content
    lots_total,
    lots_hab,
    lots_hab_bur_com,
    periode_debut,
    periode_fin,
    date_reglement,
    mandat,
    syndicat_principal,
    num_immat_principal,
    nom,
    -- keys
    l_idpar,
    adresse_cle,
    -- geometry (WGS84)
    geom
from registration
