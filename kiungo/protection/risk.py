"""The risk level of a threat, from its likelihood and its impact (each 1 to 5).

The matrix (the score is likelihood × impact, as in the usual 5×5 protection risk matrix):

    score  1-4    low
    score  5-9    medium
    score 10-16   high
    score 20-25   critical

so that a threat that is certain (5) but of small impact (1) stays low-to-medium, and a
likely (4) catastrophic (5) one is critical. This function is the only place that decides it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

SCALE = range(1, 6)


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


# Highest score first: the first bound reached gives the level.
_BOUNDS = ((20, RiskLevel.CRITICAL), (10, RiskLevel.HIGH), (5, RiskLevel.MEDIUM))


def risk_level(likelihood: int, impact: int) -> RiskLevel:
    if likelihood not in SCALE or impact not in SCALE:
        raise ValueError("likelihood and impact go from 1 to 5")
    score = likelihood * impact
    for bound, level in _BOUNDS:
        if score >= bound:
            return level
    return RiskLevel.LOW


# The rank of each level (1 is the most severe), for sorting and the badge colours.
RANK = {RiskLevel.CRITICAL: 1, RiskLevel.HIGH: 2, RiskLevel.MEDIUM: 3, RiskLevel.LOW: 4}
