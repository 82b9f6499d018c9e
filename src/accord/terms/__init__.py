"""Personal terms: the roster of agreements people proffer and brands sign (IEEE 7012 "MyTerms").

Other domains read only the effects in force, through `accord.terms.service`."""
