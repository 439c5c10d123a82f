"""The documented 5×5 risk matrix: one function decides the level of every threat."""

import pytest

from kiungo.protection.models import PlanThreat
from kiungo.protection.risk import RiskLevel, risk_level


@pytest.mark.parametrize(
    ("likelihood", "impact", "expected"),
    [
        (1, 1, RiskLevel.LOW),
        (2, 2, RiskLevel.LOW),
        (1, 4, RiskLevel.LOW),
        (5, 1, RiskLevel.MEDIUM),
        (3, 3, RiskLevel.MEDIUM),
        (2, 5, RiskLevel.HIGH),
        (4, 4, RiskLevel.HIGH),
        (5, 4, RiskLevel.CRITICAL),
        (4, 5, RiskLevel.CRITICAL),
        (5, 5, RiskLevel.CRITICAL),
    ],
)
def test_it_maps_likelihood_and_impact_to_a_level(likelihood, impact, expected):
    assert risk_level(likelihood, impact) == expected


def test_it_is_symmetric_and_never_decreases():
    order = [RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL]
    for likelihood in range(1, 6):
        for impact in range(1, 6):
            level = order.index(risk_level(likelihood, impact))
            assert risk_level(likelihood, impact) == risk_level(impact, likelihood)
            if likelihood < 5:
                assert order.index(risk_level(likelihood + 1, impact)) >= level


@pytest.mark.parametrize(("likelihood", "impact"), [(0, 3), (6, 1), (3, 0), (2, 9)])
def test_it_refuses_values_off_the_scale(likelihood, impact):
    with pytest.raises(ValueError):
        risk_level(likelihood, impact)


def test_a_threat_reports_its_level():
    assert PlanThreat(likelihood=4, impact=5).risk == RiskLevel.CRITICAL
    assert PlanThreat(likelihood=1, impact=2).risk_rank == 4
