-- T_DATE_TRANSMISSION: the transmission date does not exist, or comes after the registry received it.
select cle, 'date_transmission' as champ,
       case when transmission is null then 'date inexistante' else transmission || ' > réception ' || recu_jour end as detail
from declaration_soumise
where transmission is null or transmission > recu_jour
