-- R_ADMINISTRATION_PROVISOIRE: administration provisoire declared without the ordonnance de désignation.
select cle, 'rattachement/type_justificatif' as champ, type_justificatif as detail
from declaration_soumise
where a_rattachement and administration_provisoire and type_justificatif <> 'ordonnance_designation'
