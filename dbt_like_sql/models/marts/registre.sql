-- coproff.registre: what the registry's declarations say of each registered copropriété of the
-- referential, companion of coproff.coproff with the same key (millesime, idcopro).
-- Rules (docs/registre.md):
--   * population: the copropriétés of coproff.coproff carrying a registration number;
--   * state: intermediate.registre_etat (latest accepted declarations up to the cut-off);
--   * overdue: no annual update, or the last one received more than
--     ref.parametres.maj_annuelle_retard_mois months before the cut-off.
with

parametres as (
    select
        max(cast(valeur as integer)) filter (where code = 'declarations_mois_arret') as mois_arret,
        max(cast(valeur as integer)) filter (where code = 'maj_annuelle_retard_mois') as retard_mois
    from ref.parametres
),

copros as (
    select idcopro, num_immat
    from coproff.coproff
    where millesime = :millesime
      and num_immat is not null
),

etat as (
    select *
    from intermediate.registre_etat
    where millesime = :millesime
),

-- the cut-off and the oldest annual update still on time
arret as (
    select (make_date(cast(:millesime as integer), mois_arret, 1) + interval '1 month')::date as fin_arret,
           ((make_date(cast(:millesime as integer), mois_arret, 1) + interval '1 month')
            - make_interval(months => retard_mois))::date as maj_annuelle_limite
    from parametres
),

-- each registered copropriété with its registry state (none when it never declared)
avec_etat as (
    select *
    from copros
    left join etat using (num_immat)
),

-- overdue annual update
retard as (
    select avec_etat.*,
           (date_derniere_maj_annuelle is null or date_derniere_maj_annuelle::date < arret.maj_annuelle_limite) as maj_annuelle_en_retard,
           arret.fin_arret
    from avec_etat
    cross join arret
)

select
    -- ids
    idcopro,
    cast(:millesime as smallint) as millesime,
    num_immat,
    -- declarations
    fin_arret as date_arret,
    coalesce(nb_declarations, 0) as nb_declarations,
    date_derniere_declaration,
    date_derniere_maj_annuelle,
    maj_annuelle_en_retard,
    -- procedures in force at the cut-off
    coalesce(nb_arretes_en_cours, 0) as nb_arretes_en_cours,
    coalesce(mandat_ad_hoc_en_cours, false) as mandat_ad_hoc_en_cours,
    coalesce(carence, false) as carence,
    coalesce(administration_provisoire, false) as administration_provisoire,
    -- technical data
    periode_construction_declaree,
    nb_batiments,
    nb_batiments_passoires,
    chauffage_type,
    nb_ascenseurs,
    -- financial data of the last declared exercise
    date_ag,
    date_cloture,
    charges_courantes,
    charges_exceptionnelles,
    montant_impayes,
    nb_debiteurs_impayes,
    dettes_fournisseurs,
    fonds_travaux,
    presence_employes
from retard
