-- The registry's answers of the batch as staging.declaration_controle rows (one per failed
-- control, `aucun` for a declaration without any), and the accepted declarations the typing reads.
-- Reads the load's temporary tables declaration_lue, declaration_recue, echec, reponse.
create temporary table declaration_reponse on commit drop as
select cast(:millesime as smallint) as millesime, l.id_depot, l.num_immat, l.service, r.statut,
       coalesce(e.code, 'aucun') as code, c.niveau, e.champ, e.detail, l.source_file, l.source_line, l.cle
from declaration_lue l
join reponse r using (cle)
left join echec e on e.cle = l.cle
left join ref.controles_declaration c on c.code = e.code;

create temporary view declaration_acceptee as
select l.cle, l.source_file, l.source_line, l.id_depot, l.num_immat, d.service, r.statut, d.recu_le,
       r.codes as codes_alerte, array_remove(d.l_idpar, null) as l_idpar, d.num_immat_principal, d.doc
from declaration_recue d
join reponse r on r.cle = d.cle and r.statut = 'acceptee'
join declaration_lue l on l.cle = d.cle
