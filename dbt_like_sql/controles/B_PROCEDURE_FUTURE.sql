-- B_PROCEDURE_FUTURE: an ordonnance (nomination of a mandat ad hoc, carence) after the transmission.
select cle, v.champ, v.jour::text as detail
from declaration_soumise
cross join lateral (values ('procedures/mandat_ad_hoc/date_ordonnance_nomination', nomination),
                           ('procedures/date_ordonnance_carence', carence)) v(champ, jour)
where v.jour > transmission
