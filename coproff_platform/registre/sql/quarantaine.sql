-- quality.quarantine: each rejected declaration with file, line, its first blocking control (the
-- reference table's order) and the list of its blocking controls; never the raw text (it holds the
-- télédéclarant's mail and the PDF).
insert into quality.quarantine (millesime, source, source_file, source_line, reason, field, detail, raw)
select :millesime, :source, source_file, source_line,
       (array_agg(code order by ordre, champ))[1],
       (array_agg(champ order by ordre, champ))[1],
       left(string_agg(btrim(code || ' ' || coalesce(champ, '')), '; ' order by ordre, champ), 1000),
       null
from (
    select r.*, k.ordre
    from declaration_reponse r
    join (select code, row_number() over () as ordre from ref.controles_declaration) k using (code)
    where r.statut = 'rejetee' and r.niveau = 'bloquant'
) bloquants
group by cle, source_file, source_line
