"""The gate's terms rule for marketing, written plainly, for the floors of gate_audience.py.

Not a benchmark itself. The gate keeps a person out of a brand's marketing where their personal
terms forbid it (DESIGN.md, the gate's rule 7; `accord.terms.effects`), so a floor that returns
the gate's set for any world must apply the same rule. Without it the floor returned the same
set only because the bench's world holds no terms, and left out work the gate must do.

The person `r.person_id` is kept out, with the brand `:brand`, where
- an agreement of theirs with the brand that is live and accepted agreed an entry with the
  effect intent_only; or
- they proffer to every brand a live entry with the effect intent_only that the brand publishes
  as accepted, and hold no live agreement for that entry with the brand; or
- they want relationships only on their terms, and a live entry they proffer to the brand or to
  every brand is not met: met by their live agreement for it with the brand if there is one
  (when accepted), else when proffered to every brand and published by the brand.
"""

TERMS = """
  AND NOT EXISTS (SELECT 1 FROM terms_agreements a
                  JOIN terms_roster_effects e
                    ON e.slug = a.agreed_slug AND e.version = a.agreed_version
                  WHERE a.subject_id = r.person_id AND a.brand_id = :brand
                    AND a.withdrawn_at IS NULL AND a.status = 'accepted'
                    AND e.effect = 'intent_only')
  AND NOT EXISTS (SELECT 1 FROM terms_proffers t
                  JOIN terms_roster_effects e ON e.slug = t.slug AND e.version = t.version
                  JOIN terms_brand_accepts b
                    ON b.brand_id = :brand AND b.slug = t.slug AND b.version = t.version
                  WHERE t.person_id = r.person_id AND t.brand_id IS NULL
                    AND t.withdrawn_at IS NULL AND e.effect = 'intent_only'
                    AND NOT EXISTS (SELECT 1 FROM terms_agreements a
                                    WHERE a.subject_id = r.person_id AND a.brand_id = :brand
                                      AND a.slug = t.slug AND a.withdrawn_at IS NULL))
  AND NOT EXISTS (SELECT 1 FROM terms_people s
                  JOIN terms_proffers t
                    ON t.person_id = s.person_id AND t.withdrawn_at IS NULL
                   AND (t.brand_id IS NULL OR t.brand_id = :brand)
                  LEFT JOIN terms_agreements a
                    ON a.subject_id = s.person_id AND a.brand_id = :brand AND a.slug = t.slug
                   AND a.withdrawn_at IS NULL
                  LEFT JOIN terms_brand_accepts b
                    ON b.brand_id = :brand AND b.slug = t.slug AND b.version = t.version
                  WHERE s.person_id = r.person_id AND s.only_my_terms
                    AND CASE WHEN a.id IS NOT NULL THEN a.status <> 'accepted'
                             ELSE t.brand_id IS NOT NULL OR b.brand_id IS NULL END)"""
