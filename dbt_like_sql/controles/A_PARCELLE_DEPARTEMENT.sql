-- A_PARCELLE_DEPARTEMENT: a parcel outside the département of the main address (alert): the
-- département of its INSEE code, else of its postcode (Corsica 20xxx: 2A or 2B).
with parcelle as (
    select p.cle, p.i, p.idpar, s.code_postal,
           case when left(p.idpar, 2) = '97' then left(p.idpar, 3) else left(p.idpar, 2) end as dep_parcelle,
           case when s.code_insee is null or s.code_insee = '' then null
                when left(s.code_insee, 2) = '97' then left(s.code_insee, 3) else left(s.code_insee, 2) end as dep_adresse
    from declaration_soumise_parcelle p
    join declaration_soumise s using (cle)
    where p.idpar is not null
)
select cle, 'identification/parcelles_cadastrales/' || i as champ, idpar as detail
from parcelle
where case when dep_adresse is not null then dep_parcelle <> dep_adresse
           else not (starts_with(code_postal, dep_parcelle)
                     or (dep_parcelle in ('2A', '2B') and starts_with(code_postal, '20'))) end
