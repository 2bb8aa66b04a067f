-- The schema-valid declarations of a batch, typed once for the business controls.
-- The staging typing (registre/sql/declaration*.sql) reads them too: one pass over the documents.
-- Input: the session's `declaration_recue` (cle, service, recu_jour, l_idpar, doc), COPYed by the
-- loader (or the test service) after parse + JSON Schema; the PDF is already replaced by facts
-- measured on it (justificatif_caracteres, _base64, _pdf) and the mail is dropped.
-- Dates are kept raw (`*_brute`) and as a date, NULL when the day does not exist.
create temporary table declaration_soumise on commit drop as
-- One pass over the documents for their raw values (materialized: the date functions below then
-- read text columns, not the jsonb again for each use of their argument).
with brute as materialized (
    select
        r.cle,
        r.service,
        r.doc ->> 'type_mise_a_jour' as type_mise_a_jour,
        r.recu_jour,
        r.doc ->> 'date_transmission' as transmission_brute,
        r.doc ->> 'numero_immatriculation' as numero_brut,
        r.doc -> 'teledeclarant' ->> 'identifiant' as teledeclarant,
        -- A. identification
        a ->> 'nom_usage' as nom_usage,
        a ->> 'date_mise_en_copropriete' as date_copro_brute,
        (a ->> 'nombre_lots_total')::numeric as lots_total,
        (a ->> 'nombre_lots_habitation')::numeric as lots_habitation,
        (a ->> 'nombre_lots_stationnement')::numeric as lots_stationnement,
        (a ->> 'nombre_lots_habitation_bureaux_commerces')::numeric as lots_hbc,
        adr ->> 'numero_voie' as numero_voie,
        adr ->> 'voie' as voie,
        adr ->> 'code_postal' as code_postal,
        adr ->> 'commune' as commune,
        adr ->> 'code_insee' as code_insee,
        (adr ->> 'longitude')::float8 as longitude,
        (adr ->> 'latitude')::float8 as latitude,
        coalesce(jsonb_array_length(a -> 'adresses_secondaires'), 0) as nb_adresses_secondaires,
        a ->> 'siret' as siret,
        (a ->> 'residence_service')::boolean as residence_service,
        (a ->> 'syndicat_cooperatif')::boolean as syndicat_cooperatif,
        (a ->> 'nombre_asl')::numeric as nb_asl,
        (a ->> 'nombre_aful')::numeric as nb_aful,
        (a ->> 'nombre_unions_syndicats')::numeric as nb_unions_syndicats,
        (a ->> 'syndicat_principal')::boolean as syndicat_principal,
        a ->> 'numero_syndicat_principal' as numero_syndicat_principal,
        a -> 'parcelles_cadastrales' as parcelles_brutes,
        r.l_idpar,  -- FF idpar of each parcel (NULL: malformed), normalised by the loader (normalise.idpar)
        -- B. procédures (the arrêtés: declaration_soumise_arrete)
        mah ->> 'date_ordonnance_nomination' as nomination_brute,
        mah ->> 'date_fin_mission' as fin_mission_brute,
        coalesce(jsonb_typeof(mah) = 'object' and mah <> '{}', false) as a_mandat_ad_hoc,
        coalesce(jsonb_typeof(mah) = 'object', false) as mandat_objet,
        b ->> 'date_ordonnance_carence' as carence_brute,
        -- C. données techniques (the labels: declaration_soumise_etiquette)
        coalesce(jsonb_typeof(c) = 'object' and c <> '{}', false) as a_donnees_techniques,
        coalesce(jsonb_typeof(c) = 'object', false) as technique_objet,
        c ->> 'periode_construction' as periode_construction,
        c -> 'chauffage' ->> 'type' as chauffage_type,
        coalesce(c -> 'chauffage' -> 'urbain' = 'false'::jsonb, false) as chauffage_non_urbain,
        (c -> 'chauffage' ->> 'urbain')::boolean as chauffage_urbain,
        c -> 'chauffage' ->> 'energie' as chauffage_energie,
        c -> 'chauffage' as chauffage,
        (c ->> 'nombre_ascenseurs')::numeric as nb_ascenseurs,
        -- D. données financières: amounts as double precision, the declared JSON numbers
        coalesce(jsonb_typeof(d) = 'object' and d <> '{}', false) as a_donnees_financieres,
        d ->> 'date_ag_approbation_comptes' as ag_brute,
        d ->> 'date_cloture_comptes' as cloture_brute,
        (d ->> 'charges_courantes')::float8 as charges_courantes,
        (d ->> 'charges_exceptionnelles')::float8 as charges_exceptionnelles,
        (d ->> 'montant_impayes')::float8 as montant_impayes,
        d ->> 'montant_impayes' as montant_impayes_ecrit,  -- as written, for the answer's detail
        (d ->> 'nombre_coproprietaires_impayes')::numeric as coproprietaires_impayes,
        -- rattachement: the PDF itself is never loaded
        coalesce(jsonb_typeof(t) = 'object' and t <> '{}', false) as a_rattachement,
        t ->> 'nom_fichier' as nom_fichier,
        (t ->> 'administration_provisoire')::boolean as administration_provisoire,
        t ->> 'type_justificatif' as type_justificatif,
        (t ->> 'justificatif_caracteres')::bigint as justificatif_caracteres,
        (t ->> 'justificatif_base64')::boolean as justificatif_base64,
        (t ->> 'justificatif_pdf')::boolean as justificatif_pdf,
        (t ->> 'justificatif_octets')::integer as justificatif_octets,
        t ->> 'justificatif_sha256' as justificatif_sha256
    from declaration_recue r
    cross join lateral (select r.doc -> 'identification' as a, coalesce(r.doc -> 'procedures', '{}') as b,
                               r.doc -> 'donnees_techniques' as c, r.doc -> 'donnees_financieres' as d,
                               r.doc -> 'rattachement' as t) blocs
    cross join lateral (select a -> 'adresse_principale' as adr, b -> 'mandat_ad_hoc' as mah) sous_blocs
)
select
    brute.*,
    pg_temp.jour_heure(transmission_brute) as transmission,
    pg_temp.num_immat(numero_brut) as numero_declare,
    pg_temp.jour(date_copro_brute) as date_copro,
    pg_temp.jour(nomination_brute) as nomination,
    pg_temp.jour(fin_mission_brute) as fin_mission,
    pg_temp.jour(carence_brute) as carence,
    pg_temp.jour(ag_brute) as ag,
    pg_temp.jour(cloture_brute) as cloture
from brute;

-- Block B: one row per arrêté (i: its index in the list, as in the field's path).
create temporary table declaration_soumise_arrete on commit drop as
select r.cle, (e.i - 1)::int as i, e.v ->> 'type' as type_arrete,
       e.v ->> 'date_arrete' as date_arrete_brute, pg_temp.jour(e.v ->> 'date_arrete') as date_arrete,
       e.v ->> 'date_mainlevee' as mainlevee_brute, pg_temp.jour(e.v ->> 'date_mainlevee') as mainlevee
from declaration_recue r
cross join lateral jsonb_array_elements(r.doc -> 'procedures' -> 'arretes') with ordinality e(v, i)
where jsonb_typeof(r.doc -> 'procedures' -> 'arretes') = 'array';

-- Block C: one row per energy label of the buildings.
create temporary table declaration_soumise_etiquette on commit drop as
select r.cle, (e.i - 1)::int as i, e.v ->> 'etiquette' as etiquette, (e.v ->> 'nombre_batiments')::numeric as nombre_batiments
from declaration_recue r
cross join lateral jsonb_array_elements(r.doc -> 'donnees_techniques' -> 'batiments_par_etiquette') with ordinality e(v, i)
where jsonb_typeof(r.doc -> 'donnees_techniques' -> 'batiments_par_etiquette') = 'array';

-- Block A: one row per declared parcel, as written and as FF idpar (NULL: malformed).
create temporary table declaration_soumise_parcelle on commit drop as
select s.cle, (p.i - 1)::int as i, s.parcelles_brutes ->> (p.i - 1)::int as brute, p.idpar
from declaration_soumise s
cross join lateral unnest(s.l_idpar) with ordinality p(idpar, i);

-- Statistics of the keys only: the controls join on cle; the wide columns' statistics cost more
-- than the plans gain.
analyze declaration_soumise (cle);
analyze declaration_soumise_arrete (cle);
analyze declaration_soumise_etiquette (cle);
analyze declaration_soumise_parcelle (cle)
