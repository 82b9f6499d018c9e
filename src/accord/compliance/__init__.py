"""Legal rules as data: jurisdictions, sending windows, frequency limits, consent types."""
