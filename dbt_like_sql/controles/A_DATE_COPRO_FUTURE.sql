-- A_DATE_COPRO_FUTURE: the copropriété was created after the declaration was transmitted.
select cle, 'identification/date_mise_en_copropriete' as champ, date_copro::text as detail
from declaration_soumise
where date_copro > transmission
