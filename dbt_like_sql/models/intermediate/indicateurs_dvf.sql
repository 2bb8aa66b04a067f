-- intermediate.indicateurs_dvf: apartment sales (DVF) per TUP of the referential (docs/rules.md "Indicateurs").
--
-- Rules:
--   * mutations of the last ref.parametres.ventes_fenetre_ans calendar years of the millésime
--     (N included);
--   * exact duplicate lines of the raw files (same line_hash) are counted once;
--   * a sale = a mutation with at least one apartment (code_type_local 2) on a parcel of the TUP;
--   * a mutation's price (valeur_fonciere, repeated on each of its lines) is counted once;
--   * price per m² = price / apartment surface of the mutation (Carrez surface, else built
--     surface), only for sales ('Vente', VEFA) whose locals are apartments and their dependencies
--     (no house, no commercial premises), so that the price is the apartments' price;
--   * the surface of a mutation is the sum over its (deduplicated) apartment lines; a local
--     listed on several parcels would be counted once per parcel (rare; DVF has no local id).
-- Key: idtup. Counts of a TUP holding several registrations are indicative (coproff.indicatif).

with

parametres as (
    select max(cast(valeur as integer)) filter (where code = 'ventes_fenetre_ans') as fenetre_ans
    from ref.parametres
),

dvf as (
    select distinct on (line_hash)
        id_mutation, date_mutation, numero_disposition, nature_mutation, valeur_fonciere,
        id_parcelle, code_type_local, surface_reelle_bati, surface_carrez, nombre_pieces_principales
    from staging.dvf
    cross join parametres
    where millesime = :millesime
      and date_mutation > make_date(:millesime - parametres.fenetre_ans, 12, 31)
      and date_mutation <= make_date(:millesime, 12, 31)
    -- any of the copies: the same line_hash is the same raw line, so the same values (sorting on
    -- the file and line too made the national sort 20% slower for nothing)
    order by line_hash
),

-- the parcels of the millésime's TUPs, whichever the parcel source (FF or open cadastre)
parcelle as (
    select idpar, idtup
    from intermediate.parcelle
    where millesime = :millesime
),

-- TUPs of the referential: matched by a registration, or holding an FF copropriété
tup_referentiel as (
    select idtup
    from intermediate.tup_referentiel
    where millesime = :millesime
),

-- mutation-level facts, over all its lines: price once, apartment surface, kinds of locals
mutations as (
    select
        dvf.id_mutation,
        max(dvf.date_mutation) as date_mutation,
        max(dvf.valeur_fonciere) as valeur_fonciere,
        bool_and(dvf.nature_mutation in ('Vente', 'Vente en l''état futur d''achèvement')) as vente,
        bool_or(dvf.code_type_local in (1, 4)) as autres_locaux
    from dvf
    group by dvf.id_mutation
),

-- apartment surface of each mutation: Carrez surface, else built surface
apartment_surfaces as (
    select id_mutation,
           sum(coalesce(nullif(surface_carrez, 0), nullif(surface_reelle_bati, 0))) as surface_appartements
    from dvf
    where code_type_local = 2
    group by id_mutation
),

-- the TUPs an apartment mutation touches
mutation_tups as (
    select distinct dvf.id_mutation, parcelle.idtup
    from dvf
    inner join parcelle on parcelle.idpar = dvf.id_parcelle
    inner join tup_referentiel on tup_referentiel.idtup = parcelle.idtup
    where dvf.code_type_local = 2
),

sales as (
    select
        mutation_tups.idtup,
        mutations.id_mutation,
        mutations.date_mutation,
        case
            when mutations.vente and not mutations.autres_locaux
             and apartment_surfaces.surface_appartements > 0 and mutations.valeur_fonciere > 0
            then mutations.valeur_fonciere / apartment_surfaces.surface_appartements
        end as prix_m2
    from mutation_tups
    inner join mutations on mutations.id_mutation = mutation_tups.id_mutation
    left join apartment_surfaces on apartment_surfaces.id_mutation = mutation_tups.id_mutation
)

select
    -- ids
    idtup,
    cast(:millesime as smallint) as millesime,
    -- counts
    cast(count(*) as integer) as nb_ventes_appartements,
    cast(count(prix_m2) as integer) as nb_ventes_prix_m2,
    -- prices
    round(cast(percentile_cont(0.5) within group (order by prix_m2) as numeric), 0) as prix_m2_median,
    -- dates
    max(date_mutation) as date_derniere_vente
from sales
group by idtup
