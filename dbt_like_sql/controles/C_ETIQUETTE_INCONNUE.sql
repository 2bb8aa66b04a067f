-- C_ETIQUETTE_INCONNUE: an energy label outside ref.etiquettes_dpe.
select cle, 'donnees_techniques/batiments_par_etiquette/' || i as champ, left(etiquette, 10) as detail
from declaration_soumise_etiquette e
where not exists (select 1 from ref.etiquettes_dpe r where r.code = e.etiquette)
