-- B_MAINLEVEE_AVANT_ARRETE: a main-levée before its arrêté.
select cle, 'procedures/arretes/' || i || '/date_mainlevee' as champ, mainlevee || ' < ' || date_arrete as detail
from declaration_soumise_arrete
where mainlevee < date_arrete
