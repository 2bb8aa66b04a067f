-- audit: entrees
-- severity: blocking
-- threshold: fragilite_impayes_part_min, fragilite_dettes_fournisseurs_part_min, fragilite_fonds_travaux_part_max, fragilite_passoires_part_min, fragilite_construction_annee_max, fragilite_vacance_longue_part_min, fragilite_prix_m2_rapport_max
-- description: Chaque signal à seuil est cohérent avec la valeur publiée et son seuil de ref.parametres, et non
--   évaluable (NULL) exactement quand la valeur manque ; signaux du registre NULL hors registre
-- The published value of each threshold signal, compared again with its threshold.
with fragilite as (
    select *
    from coproff.fragilite
    where millesime = :millesime
),

parametres as (
    select
        max(cast(valeur as numeric)) filter (where code = 'fragilite_impayes_part_min') as impayes_min,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_dettes_fournisseurs_part_min') as dettes_min,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_fonds_travaux_part_max') as fonds_max,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_passoires_part_min') as passoires_min,
        max(cast(valeur as integer)) filter (where code = 'fragilite_construction_annee_max') as construction_max,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_vacance_longue_part_min') as vacance_min,
        max(cast(valeur as numeric)) filter (where code = 'fragilite_prix_m2_rapport_max') as prix_max
    from ref.parametres
),

-- (signal, value compared with its threshold) per copropriété
comparaisons as (
    select f.idcopro, v.signal, v.publie, v.attendu
    from fragilite f
    cross join parametres p
    cross join lateral (values
        ('impayes', f.signal_impayes, f.part_impayes >= p.impayes_min),
        ('dettes_fournisseurs', f.signal_dettes_fournisseurs, f.part_dettes_fournisseurs >= p.dettes_min),
        ('fonds_travaux', f.signal_fonds_travaux, f.part_fonds_travaux < p.fonds_max),
        ('passoires', f.signal_passoires, f.part_passoires >= p.passoires_min),
        ('construction_ancienne', f.signal_construction_ancienne, f.annee_construction_max <= p.construction_max),
        ('vacance_longue', f.signal_vacance_longue, f.part_vacance_longue >= p.vacance_min),
        ('prix_bas', f.signal_prix_bas, f.rapport_prix_m2 <= p.prix_max),
        -- registry signals exist only for registered copropriétés
        ('sans_maj_annuelle', f.signal_sans_maj_annuelle,
         case when f.immatriculee then f.signal_sans_maj_annuelle end),
        ('procedure', f.signal_procedure, case when f.immatriculee then f.signal_procedure end)
    ) as v(signal, publie, attendu)
)

select idcopro, signal, publie, attendu,
       case when publie is null then 'signal non évalué avec une valeur'
            when attendu is null then 'signal évalué sans valeur'
            else 'signal contraire à son seuil' end as motif
from comparaisons
where publie is distinct from attendu
