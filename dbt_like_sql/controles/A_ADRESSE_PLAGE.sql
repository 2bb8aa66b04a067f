-- A_ADRESSE_PLAGE: the street number is a range (`12-14`, `12 à 14`, `12/14`, `12 au 14`, `12,14`, `12 et 14`).
select cle, 'identification/adresse_principale/numero_voie' as champ, numero_voie as detail
from declaration_soumise
where numero_voie ~* '^\s*\d+\s*[a-z]?\s*(?:-|/|,|&|à|a|au|et)\s*\d+'
