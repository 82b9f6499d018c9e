"""Errors raised by the CLV model fits.

A fit either returns parameters that are a genuine interior maximum of the likelihood or
raises; callers must never have to inspect a flag to find out that the numbers are junk.
"""


class FitError(Exception):
    """A model could not be fitted to the data given."""


class TooFewCustomers(FitError):
    """Too little data to identify the model (too few customers or no repeat purchases)."""


class NotConverged(FitError):
    """The optimiser stopped without reaching a finite, interior maximum."""
