-- C_ENERGIE_CHAUFFAGE: collective (or mixed) heating, not urban, without its energy; or an energy
-- declared for individual heating (alert).
select cle, 'donnees_techniques/chauffage' as champ, left(chauffage::text, 80) as detail
from declaration_soumise
where a_donnees_techniques
  and ((chauffage_type in ('collectif', 'mixte') and chauffage_non_urbain and coalesce(chauffage_energie, '') = '')
       or (chauffage_type = 'individuel' and coalesce(chauffage_energie, '') <> ''))
