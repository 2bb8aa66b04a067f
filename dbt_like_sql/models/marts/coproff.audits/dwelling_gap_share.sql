-- audit: dwelling_gap_share
-- severity: warning
-- threshold: part_ecart_faible_min, tolerance_seuils
-- description: Part des copropriétés comparées (logements FF et lots d'habitation RNIC renseignés)
--   sans écart ou avec un logement d'écart, au moins égale à part_ecart_faible_min moins
--   tolerance_seuils (ref.parametres) ; une ligne de synthèse quand elle est en dessous.
with referentiel as (
    select classe_ecart_logements
    from coproff.coproff
    where millesime = :millesime and classe_ecart_logements is not null
),

classes as (
    select libelle, code, sans_ecart_ou_un
    from ref.classes_ecart_logements
),

seuil as (
    select
        (select valeur::numeric from ref.parametres where code = 'part_ecart_faible_min')
        - (select valeur::numeric from ref.parametres where code = 'tolerance_seuils')
        as part_min
),

-- 'Non renseigné' rows are not compared
comparees as (
    select c.sans_ecart_ou_un
    from referentiel as r
    join classes as c on c.libelle = r.classe_ecart_logements
    where c.code <> 'non_renseigne'
),

part as (
    select
        count(*) as nb_comparees,
        count(*) filter (where sans_ecart_ou_un) as nb_sans_ecart_ou_un,
        round(count(*) filter (where sans_ecart_ou_un)::numeric / nullif(count(*), 0), 4) as part
    from comparees
)

select
    'part sans écart ou à un logement' as regle,
    p.part,
    round(s.part_min, 4) as seuil,
    p.nb_sans_ecart_ou_un,
    p.nb_comparees
from part as p
cross join seuil as s
where p.part is null or p.part < s.part_min
