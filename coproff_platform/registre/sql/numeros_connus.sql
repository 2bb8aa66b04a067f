-- Registration numbers the registry knows for millésime :millesime (WS2 existence control).
-- One query per source table; the loader runs those whose table exists.
-- part: staging.rnic
select num_immat from staging.rnic where millesime <= :millesime
-- part: staging.declaration
select num_immat from staging.declaration where service = 'WS1' and num_immat is not null and millesime < :millesime
-- part: registre_test.numero
select num_immat from registre_test.numero
