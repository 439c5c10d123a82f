from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kiungo.missions.models import (
    AlertLevel,
    EscalationStep,
    Mission,
    install_default_policy,
    validate_alert_policy,
)


@pytest.fixture
def mission(db):
    mission = Mission.objects.create(
        code="M", name="M", country="CD", time_zone="Africa/Kinshasa", languages=["fr"]
    )
    install_default_policy(mission)
    return mission


def levels_and_steps(mission):
    levels = list(mission.alert_levels())
    return levels, {level.rank: list(level.steps.all()) for level in levels}


def test_the_default_policy_is_valid_and_ordered(mission):
    levels, steps = levels_and_steps(mission)
    assert [level.code for level in levels] == ["critical", "high", "medium", "low"]
    validate_alert_policy(levels, steps)
    assert [step.target for step in steps[1]] == [
        "battalion",
        "sector",
        "early_warning_cell",
        "force_hq",
    ]


def test_installing_twice_changes_nothing(mission):
    install_default_policy(mission)
    assert mission.levels.count() == 4


def test_a_more_severe_level_cannot_allow_more_time(mission):
    levels, steps = levels_and_steps(mission)
    levels[0].acknowledge_within = timedelta(hours=2)
    with pytest.raises(ValidationError, match="more severe"):
        validate_alert_policy(levels, steps)


def test_ranks_run_without_gaps(mission):
    levels, steps = levels_and_steps(mission)
    levels[3].rank = 7
    with pytest.raises(ValidationError, match="Ranks"):
        validate_alert_policy(levels, steps)


def test_escalation_goes_up_the_chain(mission):
    levels, steps = levels_and_steps(mission)
    steps[1][0].target = "force_hq"
    with pytest.raises(ValidationError, match="up the chain"):
        validate_alert_policy(levels, steps)


@pytest.mark.parametrize(
    ("acknowledge", "respond"),
    [
        (timedelta(0), timedelta(hours=1)),
        (timedelta(hours=2), timedelta(hours=1)),
        (timedelta(minutes=-5), timedelta(hours=1)),
    ],
)
def test_deadlines_must_be_positive_and_ordered(mission, acknowledge, respond):
    level = AlertLevel(
        mission=mission,
        code="x",
        name="X",
        rank=9,
        acknowledge_within=acknowledge,
        respond_within=respond,
    )
    with pytest.raises(ValidationError):
        level.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        level.save()


def test_a_step_cannot_precede_the_deadline(mission):
    level = mission.levels.get(code="low")
    with pytest.raises(IntegrityError), transaction.atomic():
        EscalationStep.objects.create(
            level=level, position=9, target="force_hq", after=timedelta(minutes=-1)
        )


def test_the_admin_refuses_an_unordered_policy(mission, admin_client):
    # The mission admin validates all its levels together (the inline formset).
    levels = list(mission.alert_levels())
    data = {
        "code": "M",
        "name": "M",
        "country": "CD",
        "time_zone": "Africa/Kinshasa",
        "languages": '["fr"]',
        "levels-TOTAL_FORMS": "4",
        "levels-INITIAL_FORMS": "4",
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "1000",
        "armed_actors-TOTAL_FORMS": "0",
        "armed_actors-INITIAL_FORMS": "0",
    }
    for i, level in enumerate(levels):
        data |= {
            f"levels-{i}-id": level.pk,
            f"levels-{i}-mission": mission.pk,
            f"levels-{i}-code": level.code,
            f"levels-{i}-name": level.name,
            f"levels-{i}-rank": level.rank,
            f"levels-{i}-acknowledge_within": str(level.acknowledge_within),
            f"levels-{i}-respond_within": str(level.respond_within),
        }
    data["levels-0-acknowledge_within"] = "10:00:00"
    data["levels-0-respond_within"] = "20:00:00"
    response = admin_client.post(f"/admin/missions/mission/{mission.pk}/change/", data)
    assert response.status_code == 200  # the form is shown again with the error
    assert "more severe" in response.content.decode()
    assert mission.levels.get(rank=1).acknowledge_within == timedelta(minutes=15)
    data["levels-0-acknowledge_within"] = "00:10:00"
    data["levels-0-respond_within"] = "00:50:00"
    response = admin_client.post(f"/admin/missions/mission/{mission.pk}/change/", data)
    assert response.status_code == 302
    assert mission.levels.get(rank=1).acknowledge_within == timedelta(minutes=10)


def test_mission_fields_are_validated(db):
    mission = Mission(code="x", name="X", country="ZZ", time_zone="Nowhere/City", languages=["xx"])
    with pytest.raises(ValidationError) as error:
        mission.full_clean()
    assert set(error.value.message_dict) >= {"country", "time_zone", "languages"}
