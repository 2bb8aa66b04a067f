-- audit: idcopro_unique_and_well_formed
-- severity: blocking
-- threshold: none
-- description: idcopro n'est jamais NULL, est unique dans le millésime et s'écrit RNC_ suivi du
--   numéro d'immatriculation (2 lettres capitales et 7 chiffres) ou FF_ suivi de l'identifiant de
--   la TUP.
with referentiel as (
    select idcopro
    from coproff.coproff
    where millesime = :millesime
),

par_idcopro as (
    select idcopro, count(*) as nb_lignes
    from referentiel
    group by idcopro
)

select
    idcopro,
    nb_lignes,
    case
        when idcopro is null then 'idcopro NULL'
        when nb_lignes > 1 then 'doublon'
        else 'format invalide'
    end as motif
from par_idcopro
-- the two forms of the identifier: RNC_<num_immat> (registered) or FF_<idtup> (FF only)
where idcopro is null
   or nb_lignes > 1
   or idcopro !~ '^(RNC_[A-Z]{2}[0-9]{7}|FF_[0-9A-Za-z]{5,})$'
order by nb_lignes desc, idcopro
