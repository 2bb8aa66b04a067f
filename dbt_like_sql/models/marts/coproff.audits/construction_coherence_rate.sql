-- audit: construction_coherence_rate
-- severity: warning
-- threshold: taux_coherence_construction_min, tolerance_seuils
-- description: Taux de copropriétés comparables dont l'année de construction FF tombe dans la
--   période RNIC élargie (coherence_construction), au moins égal à taux_coherence_construction_min
--   moins tolerance_seuils (ref.parametres) ; une ligne de synthèse quand il est en dessous.
with referentiel as (
    select coherence_construction
    from coproff.coproff
    where millesime = :millesime and coherence_construction in ('coherent', 'incoherent')
),

seuil as (
    select
        (select valeur::numeric from ref.parametres where code = 'taux_coherence_construction_min')
        - (select valeur::numeric from ref.parametres where code = 'tolerance_seuils')
        as taux_min
),

-- the rate is taken among comparable rows only (both sides filled)
taux as (
    select
        count(*) as nb_comparables,
        count(*) filter (where coherence_construction = 'coherent') as nb_coherentes,
        round(count(*) filter (where coherence_construction = 'coherent')::numeric / nullif(count(*), 0), 4) as taux
    from referentiel
)

select
    'taux de cohérence de la construction' as regle,
    t.taux,
    round(s.taux_min, 4) as seuil,
    t.nb_coherentes,
    t.nb_comparables
from taux as t
cross join seuil as s
where t.taux is null or t.taux < s.taux_min
