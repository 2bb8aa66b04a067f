-- audit: coherence
-- severity: warning
-- threshold: none
-- description: Données du registre cohérentes : montants positifs, débiteurs seulement avec des impayés, dernière mise à jour annuelle avant l'arrêt
-- The registry state of each copropriété is coherent (accepted declarations passed the
-- controls, so a failure here means two declarations were mixed): amounts non-negative, owners in
-- arrears only with arrears, last annual update not after the cut-off.
select idcopro,
       case when least(charges_courantes, charges_exceptionnelles, montant_impayes, dettes_fournisseurs, fonds_travaux) < 0
                then 'montant négatif'
            when (montant_impayes > 0) <> (nb_debiteurs_impayes > 0) then 'impayés sans débiteurs'
            else 'mise à jour annuelle après l''arrêt' end as motif
from coproff.registre
where millesime = :millesime
  and (least(charges_courantes, charges_exceptionnelles, montant_impayes, dettes_fournisseurs, fonds_travaux) < 0
       or (montant_impayes > 0) <> (nb_debiteurs_impayes > 0)
       or date_derniere_maj_annuelle >= date_arret)
