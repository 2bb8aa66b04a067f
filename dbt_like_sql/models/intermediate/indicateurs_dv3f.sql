-- intermediate.indicateurs_dv3f: apartment sales (DV3F) per TUP of the referential (docs/rules.md
-- "Indicateurs", DV3F preferred when present); same columns as intermediate.indicateurs_dvf.
--
-- Rules:
--   * mutations of the last ref.parametres.ventes_fenetre_ans calendar years of the millésime
--     (N included);
--   * DV3F has one row per mutation: its price (valeurfonc) is counted once by construction;
--   * a sale = a mutation with at least one apartment (nblocapt > 0, or an apartment typology
--     codtypbien 12…) on a parcel (l_idpar, FF idpar) of the TUP; a mutation spanning several
--     parcels of one TUP is counted once;
--   * price per m² = valeurfonc / sbatapt (built surface of the apartments), only when the
--     typology is apartments (codtypbien 12…: apartments and their dependencies, no house, no
--     commercial premises), so that the price is the apartments' price.
-- Key: idtup. Counts of a TUP holding several registrations are indicative (coproff.indicatif).

with

parametres as (
    select max(cast(valeur as integer)) filter (where code = 'ventes_fenetre_ans') as fenetre_ans
    from ref.parametres
),

dv3f as (
    select idmutation, datemut, valeurfonc, l_idpar, nblocapt, sbatapt, codtypbien
    from staging.dv3f
    cross join parametres
    where millesime = :millesime
      and datemut > make_date(:millesime - parametres.fenetre_ans, 12, 31)
      and datemut <= make_date(:millesime, 12, 31)
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

-- apartment mutations, with their price per m² when the typology is apartments only
apartment_mutations as (
    select
        idmutation,
        datemut,
        l_idpar,
        case
            when codtypbien like '12%' and sbatapt > 0 and valeurfonc > 0
            then valeurfonc / sbatapt
        end as prix_m2
    from dv3f
    where nblocapt > 0 or codtypbien like '12%'
),

-- the parcels of each mutation (l_idpar array → one row per parcel)
mutation_parcels as (
    select apartment_mutations.idmutation, parcel.idpar
    from apartment_mutations
    cross join lateral unnest(apartment_mutations.l_idpar) as parcel(idpar)
),

-- the TUPs a mutation touches, once each
mutation_tups as (
    select distinct mutation_parcels.idmutation, parcelle.idtup
    from mutation_parcels
    inner join parcelle on parcelle.idpar = mutation_parcels.idpar
    inner join tup_referentiel on tup_referentiel.idtup = parcelle.idtup
),

sales as (
    select
        mutation_tups.idtup,
        apartment_mutations.idmutation,
        apartment_mutations.datemut,
        apartment_mutations.prix_m2
    from mutation_tups
    inner join apartment_mutations on apartment_mutations.idmutation = mutation_tups.idmutation
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
    max(datemut) as date_derniere_vente
from sales
group by idtup
