-- Is :num_immat known to the registry for millésime :millesime? The same parts as numeros_connus.sql,
-- asked of one number (the editors' test service, one declaration per call).
select exists (select 1 from ({parts}) k where k.num_immat = :num_immat)
