-- staging.declaration_finance: block D of accepted declarations (accounts of the last closed year).
with recues as (
    select * from declaration_acceptee where jsonb_typeof(doc -> 'donnees_financieres') = 'object'
)
select
    cast(:millesime as smallint) as millesime, r.id_depot, r.num_immat,
    (d ->> 'date_ag_approbation_comptes')::date as date_ag,
    (d ->> 'date_cloture_comptes')::date as date_cloture,
    (d ->> 'charges_courantes')::numeric(14,2) as charges_courantes,
    (d ->> 'charges_exceptionnelles')::numeric(14,2) as charges_exceptionnelles,
    (d ->> 'montant_impayes')::numeric(14,2) as montant_impayes,
    (d ->> 'nombre_coproprietaires_impayes')::integer as nb_coproprietaires_impayes,
    (d ->> 'dettes_fournisseurs')::numeric(14,2) as dettes_fournisseurs,
    (d ->> 'fonds_travaux')::numeric(14,2) as fonds_travaux,
    (d ->> 'presence_employes')::boolean as presence_employes,
    r.source_file, r.source_line
from recues r
cross join lateral (select r.doc -> 'donnees_financieres' as d) fin
