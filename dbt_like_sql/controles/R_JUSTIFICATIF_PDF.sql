-- R_JUSTIFICATIF_PDF: the file name does not end in .pdf, or the decoded content does not start with %PDF.
select cle, 'rattachement/nom_fichier' as champ, left(nom_fichier, 80) as detail
from declaration_soumise
where a_rattachement and (lower(nom_fichier) not like '%.pdf' or not justificatif_pdf)
