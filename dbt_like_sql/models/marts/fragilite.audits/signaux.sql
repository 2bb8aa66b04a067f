-- audit: signaux
-- severity: blocking
-- threshold: none
-- description: Score = nombre de signaux allumés, un motif par signal, famille connue (la première sans signal), rang entre 0 et 1
-- The score counts the signals on, within 0 .. number of signals of ref.signaux_fragilite;
-- one reason per signal on; the family is one of ref.familles_fragilite and the first one when no
-- signal is on; the rank is within [0, 1].
select idcopro, score, famille, rang_departement,
       case when score <> num_nonnulls(nullif(signal_impayes, false), nullif(signal_dettes_fournisseurs, false),
                                       nullif(signal_fonds_travaux, false), nullif(signal_sans_syndic, false),
                                       nullif(signal_sans_maj_annuelle, false), nullif(signal_procedure, false),
                                       nullif(signal_passoires, false), nullif(signal_construction_ancienne, false),
                                       nullif(signal_vacance_longue, false), nullif(signal_prix_bas, false))
                 then 'score différent du nombre de signaux'
            when score > (select count(*) from ref.signaux_fragilite) or score < 0 then 'score hors bornes'
            when cardinality(motifs) <> score then 'motifs et score différents'
            when famille is null or famille not in (select code from ref.familles_fragilite) then 'famille inconnue'
            when score = 0 and famille <> (select code from ref.familles_fragilite order by ordre limit 1)
                 then 'famille sans signal'
            else 'rang hors [0, 1]' end as motif
from coproff.fragilite
where millesime = :millesime
  and (score <> num_nonnulls(nullif(signal_impayes, false), nullif(signal_dettes_fournisseurs, false),
                             nullif(signal_fonds_travaux, false), nullif(signal_sans_syndic, false),
                             nullif(signal_sans_maj_annuelle, false), nullif(signal_procedure, false),
                             nullif(signal_passoires, false), nullif(signal_construction_ancienne, false),
                             nullif(signal_vacance_longue, false), nullif(signal_prix_bas, false))
       or score > (select count(*) from ref.signaux_fragilite) or score < 0
       or cardinality(motifs) <> score
       or famille is null or famille not in (select code from ref.familles_fragilite)
       or (score = 0 and famille <> (select code from ref.familles_fragilite order by ordre limit 1))
       or rang_departement not between 0 and 1)
