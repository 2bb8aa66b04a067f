-- D_DEBITEURS_LOTS: more owners in arrears than lots.
select cle, 'donnees_financieres/nombre_coproprietaires_impayes' as champ,
       coproprietaires_impayes || ' > ' || lots_total as detail
from declaration_soumise
where a_donnees_financieres and coproprietaires_impayes > lots_total
