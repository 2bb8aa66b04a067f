-- D_CHARGES_PAR_LOT: current charges per lot outside [declaration_charges_lot_min, _max] (alert).
select cle, 'donnees_financieres/charges_courantes' as champ, round((charges_courantes / lots_total)::numeric) || ' € par lot' as detail
from declaration_soumise
cross join (select max(cast(valeur as float8)) filter (where code = 'declaration_charges_lot_min') as minimum,
                   max(cast(valeur as float8)) filter (where code = 'declaration_charges_lot_max') as maximum
            from ref.parametres) p
where a_donnees_financieres and charges_courantes > 0
  and not charges_courantes / lots_total::float8 between p.minimum and p.maximum
