"""Customer-lifetime-value models: BG/NBD, Pareto/NBD, Gamma-Gamma and discounted CLV.

Pure numpy/scipy; fits run on distinct (x, t_x, T) triples so cost and memory follow the
number of distinct purchase histories rather than the number of customers.
"""

from accord.analytics.clv import bgnbd, gammagamma, paretonbd
from accord.analytics.clv.bgnbd import BGNBDParams
from accord.analytics.clv.errors import FitError, NotConverged, TooFewCustomers
from accord.analytics.clv.gammagamma import GammaGammaParams
from accord.analytics.clv.paretonbd import ParetoNBDParams
from accord.analytics.clv.triples import Triples, compress
from accord.analytics.clv.value import (
    PurchaseModel,
    customer_equity,
    customer_lifetime_value,
    discounted_purchases,
)

__all__ = [
    "BGNBDParams",
    "FitError",
    "GammaGammaParams",
    "NotConverged",
    "ParetoNBDParams",
    "PurchaseModel",
    "TooFewCustomers",
    "Triples",
    "bgnbd",
    "compress",
    "customer_equity",
    "customer_lifetime_value",
    "discounted_purchases",
    "gammagamma",
    "paretonbd",
]
