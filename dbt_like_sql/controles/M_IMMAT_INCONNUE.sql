-- M_IMMAT_INCONNUE: an update of a number the registry does not know: neither in `numero_connu`
-- (registry export of the millésime and earlier, earlier WS1, test service: numeros_connus.sql)
-- nor attributed by a WS1 of this batch read before it and not rejected (`echec`: the other
-- controls' failures, evaluated first).
select s.cle, 'numero_immatriculation' as champ, s.numero_declare as detail
from declaration_soumise s
where not exists (select 1 from numero_connu k where k.num_immat = s.numero_declare)
  and not exists (
      select 1 from declaration_lue w
      where w.service = 'WS1' and w.structure_valide and w.num_immat = s.numero_declare and w.cle < s.cle
        and not exists (select 1 from echec e join ref.controles_declaration c using (code)
                        where e.cle = w.cle and c.niveau = 'bloquant'))
