-- D_IMPAYES_DEBITEURS: arrears without owners in arrears, or owners in arrears without arrears.
select cle, 'donnees_financieres/nombre_coproprietaires_impayes' as champ,
       montant_impayes_ecrit || ' / ' || coproprietaires_impayes as detail
from declaration_soumise
where a_donnees_financieres and (montant_impayes > 0) <> (coproprietaires_impayes > 0)
