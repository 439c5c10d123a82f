"""POST /api/check-ins and /api/sos, for the token's CLA."""

import pytest
from django.test import Client

from kiungo.api.models import ApiToken
from kiungo.messaging.models import OutboundEmail, Purpose
from kiungo.safety.models import Alarm, CheckIn


@pytest.fixture
def api(world, safety):
    tokens = {name: ApiToken.issue(world.users[name], "test")[1] for name in ("cla", "ewo")}

    def post(path, body, as_="cla", **headers):
        return Client().post(
            path,
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {tokens[as_]}", **headers},
        )

    return post


def test_a_cla_checks_in_and_a_retry_with_the_same_key_is_stored_once(api, world):
    first = api("/api/check-ins", {"place": "CD6101"}, **{"Idempotency-Key": "k1"})
    assert first.status_code == 201, first.content
    assert first.json()["place"] == "CD6101"
    assert first.json()["next_due_at"] == "2025-03-03T18:00:00Z"
    again = api("/api/check-ins", {"place": "CD6101"}, **{"Idempotency-Key": "k1"})
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert CheckIn.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"place": "SS0101"}, "place"),  # another mission's place
        ({"latitude": 1.0}, None),
        ({"latitude": 100, "longitude": 1}, "latitude"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_422_and_stores_nothing(api, body, where):
    response = api("/api/check-ins", body)
    assert response.status_code == 422, response.content
    if where:
        assert where in str(response.json()["detail"])
    assert not CheckIn.objects.exists()


def test_an_account_that_is_not_a_cla_is_refused(api):
    assert api("/api/check-ins", {}, as_="ewo").status_code == 403
    assert api("/api/sos", {}, as_="ewo").status_code == 403


def test_sos_through_the_api(api):
    response = api("/api/sos", {"note": "road blocked, armed men"})
    assert response.status_code == 201 and response.json()["signals"] == 1
    assert Alarm.objects.get().channel == "api"
    assert OutboundEmail.objects.filter(purpose=Purpose.ALERT).count() == 2
