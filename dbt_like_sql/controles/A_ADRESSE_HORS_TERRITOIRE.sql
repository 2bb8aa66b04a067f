-- A_ADRESSE_HORS_TERRITOIRE: coordinates outside the box of every territory the registry covers (alert).
select cle, 'identification/adresse_principale' as champ, longitude || ', ' || latitude as detail
from declaration_soumise s
where longitude is not null and latitude is not null
  and not exists (select 1 from ref.territoires t
                  where t.couvert_registre and s.longitude between t.lon_min and t.lon_max
                    and s.latitude between t.lat_min and t.lat_max)
