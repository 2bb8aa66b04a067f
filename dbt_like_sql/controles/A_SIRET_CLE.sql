-- A_SIRET_CLE: the SIRET's Luhn key is wrong (La Poste's establishments, SIREN 356000000, have a
-- digit sum divisible by 5 instead).
select cle, 'identification/siret' as champ, siret as detail
from declaration_soumise
cross join lateral (
    select sum(case when k % 2 = 1 then (2 * c) % 10 + (2 * c) / 10 else c end) as luhn, sum(c) as chiffres
    from generate_series(0, 13) k
    cross join lateral (select substr(siret, 14 - k, 1)::int as c) digit
) somme
where siret is not null and siret <> ''
  and not (somme.luhn % 10 = 0 or (starts_with(siret, '356000000') and somme.chiffres % 5 = 0))
