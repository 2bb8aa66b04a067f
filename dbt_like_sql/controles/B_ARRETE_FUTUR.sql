-- B_ARRETE_FUTUR: an arrêté dated after the transmission.
select a.cle, 'procedures/arretes/' || a.i || '/date_arrete' as champ, a.date_arrete::text as detail
from declaration_soumise_arrete a
join declaration_soumise s using (cle)
where a.date_arrete > s.transmission
