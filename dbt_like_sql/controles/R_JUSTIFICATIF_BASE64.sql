-- R_JUSTIFICATIF_BASE64: a justificatif is given but empty or not base 64 (decoded by the loader,
-- which keeps only its size and hash).
select cle, 'rattachement/justificatif' as champ, '' as detail
from declaration_soumise
where justificatif_caracteres is not null and not justificatif_base64
