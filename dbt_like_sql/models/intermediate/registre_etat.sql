-- The registry state of millésime N, one row per registration with an accepted declaration.
-- Rules (docs/registre.md):
--   * the declarations of the state are the accepted ones received before the end of the cut-off
--     month of year N (ref.parametres.declarations_mois_arret: September N), from every millésime <= N;
--   * the latest declaration brings block A and the procedures (block B) as declared then;
--   * technical (C) and financial (D) data come from the latest declaration that carries them;
--   * a procedure is in force when it has no main-levée / end of mission before the cut-off.
with

parametres as (
    select max(cast(valeur as integer)) filter (where code = 'declarations_mois_arret') as mois_arret
    from ref.parametres
),

declarations as (
    select d.millesime as millesime_depot, d.num_immat, d.service, d.type_mise_a_jour, d.recu_le,
           d.administration_provisoire, d.source_file, d.source_line
    from staging.declaration d
    where d.millesime <= :millesime
      and d.num_immat is not null
),

techniques as (
    select t.millesime as millesime_depot, t.source_file, t.source_line, t.periode_construction, t.nb_batiments,
           t.nb_batiments_passoires, t.chauffage_type, t.nb_ascenseurs
    from staging.declaration_technique t
    where t.millesime <= :millesime
),

finances as (
    select f.millesime as millesime_depot, f.source_file, f.source_line, f.date_ag, f.date_cloture,
           f.charges_courantes, f.charges_exceptionnelles, f.montant_impayes, f.nb_coproprietaires_impayes,
           f.dettes_fournisseurs, f.fonds_travaux, f.presence_employes
    from staging.declaration_finance f
    where f.millesime <= :millesime
),

procedures_declarees as (
    select p.millesime as millesime_depot, p.source_file, p.source_line, p.procedure, p.date_fin
    from staging.declaration_procedure p
    where p.millesime <= :millesime
),

-- the cut-off: the first day after the cut-off month of year N
arret as (
    select (make_date(cast(:millesime as integer), parametres.mois_arret, 1) + interval '1 month')::date as fin_arret
    from parametres
),

-- declarations of the state: received before the cut-off
retenues as (
    select declarations.*
    from declarations
    cross join arret
    where declarations.recu_le < arret.fin_arret
),

-- latest declaration of each registration (ties: later millésime, file and line)
derniere as (
    select distinct on (num_immat) *
    from retenues
    order by num_immat, recu_le desc, millesime_depot desc, source_file desc, source_line desc
),

-- procedures of the latest declaration still in force at the cut-off
procedures_en_cours as (
    select derniere.num_immat,
           count(*) filter (where p.procedure = 'arrete') as nb_arretes_en_cours,
           bool_or(p.procedure = 'mandat_ad_hoc') as mandat_ad_hoc_en_cours,
           bool_or(p.procedure = 'carence') as carence
    from derniere
    join procedures_declarees p using (millesime_depot, source_file, source_line)
    cross join arret
    where p.date_fin is null or p.date_fin >= arret.fin_arret
    group by derniere.num_immat
),

-- latest technical block
technique as (
    select distinct on (r.num_immat) r.num_immat, t.periode_construction, t.nb_batiments, t.nb_batiments_passoires,
           t.chauffage_type, t.nb_ascenseurs
    from retenues r
    join techniques t using (millesime_depot, source_file, source_line)
    order by r.num_immat, r.recu_le desc, r.millesime_depot desc, r.source_file desc, r.source_line desc
),

-- latest financial block
finance as (
    select distinct on (r.num_immat) r.num_immat, f.date_ag, f.date_cloture, f.charges_courantes,
           f.charges_exceptionnelles, f.montant_impayes, f.nb_coproprietaires_impayes, f.dettes_fournisseurs,
           f.fonds_travaux, f.presence_employes
    from retenues r
    join finances f using (millesime_depot, source_file, source_line)
    order by r.num_immat, r.recu_le desc, r.millesime_depot desc, r.source_file desc, r.source_line desc
),

-- date of the last annual update
annuelles as (
    select num_immat, max(recu_le) as date_derniere_maj_annuelle
    from retenues
    where type_mise_a_jour = 'annuelle'
    group by num_immat
),

nb_declarations as (
    select num_immat, count(*) as nb_declarations
    from retenues
    group by num_immat
)

select
    cast(:millesime as smallint) as millesime,
    d.num_immat,
    -- latest declaration
    d.service as service_derniere_declaration,
    d.recu_le as date_derniere_declaration,
    nb.nb_declarations::integer as nb_declarations,
    a.date_derniere_maj_annuelle,
    -- procedures in force
    coalesce(p.nb_arretes_en_cours, 0)::integer as nb_arretes_en_cours,
    coalesce(p.mandat_ad_hoc_en_cours, false) as mandat_ad_hoc_en_cours,
    coalesce(p.carence, false) as carence,
    coalesce(d.administration_provisoire, false) as administration_provisoire,
    -- technical data
    t.periode_construction as periode_construction_declaree,
    t.nb_batiments,
    t.nb_batiments_passoires,
    t.chauffage_type,
    t.nb_ascenseurs,
    -- financial data
    f.date_ag,
    f.date_cloture,
    f.charges_courantes,
    f.charges_exceptionnelles,
    f.montant_impayes,
    f.nb_coproprietaires_impayes as nb_debiteurs_impayes,
    f.dettes_fournisseurs,
    f.fonds_travaux,
    f.presence_employes
from derniere d
join nb_declarations nb using (num_immat)
left join annuelles a using (num_immat)
left join procedures_en_cours p using (num_immat)
left join technique t using (num_immat)
left join finance f using (num_immat)
