-- A_PRINCIPAL_SOI_MEME: an update naming the copropriété itself as its main syndicate.
select cle, 'identification/numero_syndicat_principal' as champ, numero_syndicat_principal as detail
from declaration_soumise
where pg_temp.num_immat(numero_syndicat_principal) = numero_declare
