"""Schemathesis against the API's own OpenAPI document: whatever a client sends, no 5xx, and
every answer is one the document declares (status code, body schema, content type, headers).

The schema is read from the running Django application (`/api/openapi.json`, in process, over
WSGI: no socket); every generated request then goes through the whole stack (middleware, ninja,
the database) on the test's connection and transaction. Bounded: a few dozen examples per
operation plus schemathesis' coverage cases (the edge values of every field), a few seconds per
operation.
"""

import os
from contextlib import contextmanager
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import OperationalError, close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kiungo.alerts.intake import log_alert
from kiungo.alerts.models import Incident
from kiungo.api.models import ApiToken
from kiungo.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# KIUNGO_FUZZ_SCALE=20 runs twenty times as many examples (a bug hunt, not the regular suite).
SCALE = max(1, int(os.environ.get("KIUNGO_FUZZ_SCALE", "1") or 1))
BOUNDED = settings(
    max_examples=25 * SCALE,
    deadline=timedelta(seconds=5),  # generous: a request takes milliseconds, even on PostgreSQL
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Who sends the request: mostly a user who may do everything the API offers in the mission (an
# early-warning officer), else a CLA (may log alerts in Beni), a unit's duty officer (may
# answer incidents), a reader, a user without a role, an unknown token, no token at all.
SENDERS = st.sampled_from(["ewo", "ewo", "ewo", "cla", "duty", "analyst", "outsider", "bad", None])


@contextmanager
def _same_connection():
    """As django.test.Client does: a request must not close the test's database connection
    (it would, at its end, inside the test's transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(world):
    """Tokens of every user of the world, and three alerts and their incidents (one closed)."""
    tokens = {name: ApiToken.issue(world.users[name], "fuzz")[1] for name in world.users}
    references = []
    for area, text in [
        (world.beni, "ALERTE Beni attaque"),
        (world.butembo, "HATARI Butembo mapigano"),
        (world.bunia, "ALERT Bunia looting"),
    ]:
        alert, _created = log_alert(
            mission=world.mission, user=world.users["ewo"], text=text, source="call", area=area
        )
        references += [alert.reference, alert.incident.reference]
    closed = Incident.objects.get(reference=references[-1])
    closed.status = Incident.Status.CLOSED
    closed.outcome = "false_alarm"
    closed.save()
    return tokens, references


def _send(case, token: str | None, checks=CHECKS):
    headers = dict(case.headers or {})
    if token is None:
        headers.pop("Authorization", None)
    else:
        headers["Authorization"] = f"Bearer {token}"
    with _same_connection():
        response = case.call(headers=headers)
    case.validate_response(response, checks=checks, headers=headers)
    return response


@schema.parametrize()
@BOUNDED
def test_the_api_keeps_to_its_openapi_document(fuzz_world, case):
    """As an early-warning officer: the schema's examples, its edge cases, then random ones."""
    tokens, _references = fuzz_world
    if isinstance(case.body, dict) and isinstance(case.body.get("mission"), str):
        case.body["mission"] = "TESTMISSION"  # a mission that exists: the rest is checked
    _send(case, tokens["ewo"])


@schema.parametrize()
@schema.given(sender=SENDERS, pick=st.integers(min_value=0, max_value=10))
@settings(BOUNDED, phases=[Phase.reuse, Phase.generate, Phase.shrink])  # no explicit examples
def test_any_sender_on_real_and_unknown_references(fuzz_world, case, sender, pick):
    """Readers, strangers, bad tokens and no token at all; often aimed at real references, so
    that answers other than 404 are checked too (and closed incidents refuse actions)."""
    tokens, references = fuzz_world
    if "reference" in (case.path_parameters or {}) and pick < len(references):
        case.path_parameters["reference"] = references[pick]
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("mission"), str) and pick < 8:
        # A mission and places that exist, so that alerts are stored (201, 200, 409) too,
        # whatever their generated text says.
        body["mission"] = ["TESTMISSION", "OTHERMISSION"][pick % 2]
        if pick < 4:
            for name in set(body) - {"mission", "text", "source", "threat"}:
                del body[name]
            body["place"] = ["CD6101", "CD61010101001", "SS0101", None][pick]
    _send(case, {**tokens, "bad": "kiu_not-a-real-token"}.get(sender))  # None: no token


@schema.parametrize()
@settings(BOUNDED, max_examples=5 * SCALE, phases=[Phase.generate])
def test_a_database_outage_answers_a_declared_503(fuzz_world, case, monkeypatch):
    """Every operation, with the database refusing at the first query (the token's): 503 with
    Retry-After, as each operation declares, never a 500."""

    def refuse(self, raw):
        raise OperationalError("database is locked")

    monkeypatch.setattr("kiungo.api.models.ApiTokenQuerySet.for_token", refuse)
    tokens, _references = fuzz_world
    response = _send(case, tokens["ewo"], checks=CHECKS[1:])  # a 503 is the point here
    if "Authorization" not in response.request.headers:
        # Schemathesis' negative case "missing Authorization" drops the token: 401 first.
        assert response.status_code == 401
        return
    assert response.status_code == 503, response.status_code
    assert int(response.headers["retry-after"][0]) > 0


# What the fuzzing found, kept as plain regression tests.

EDGES = {
    "2025-03-01T12:00:00+19:03": 200,  # PostgreSQL takes offsets up to ±15:59 only (was 503)
    "0001-01-01T00:00:00+19:00": 422,  # no such moment in UTC, before year 1 (was 500)
    "9999-12-31T23:59:59-23:59": 422,  # no such moment in UTC, after year 9999 (was 500)
}


def test_a_time_filter_at_the_edge_of_the_calendar_is_read_in_utc_or_422(fuzz_world):
    tokens, _references = fuzz_world
    client, auth = Client(), {"Authorization": f"Bearer {tokens['ewo']}"}
    answers = {
        (path, name, moment): client.get(path, {name: moment}, headers=auth).status_code
        for path in ("/api/alerts", "/api/incidents")
        for name in ("since", "until")
        for moment in EDGES
    }
    assert answers == {key: EDGES[key[2]] for key in answers}


def test_an_alert_time_at_the_edge_of_the_calendar_is_read_in_utc_or_422(fuzz_world):
    tokens, _references = fuzz_world
    client, auth = Client(), {"Authorization": f"Bearer {tokens['ewo']}"}
    answers = {}
    for moment in ("2025-03-01T12:00:00+19:03", "0001-01-01T00:00:00+19:00"):
        body = {"mission": "TESTMISSION", "text": "ALERTE Beni attaque", "occurred_at": moment}
        response = client.post("/api/alerts", body, content_type="application/json", headers=auth)
        answers[moment] = response.status_code
        if response.status_code == 201:
            assert response.json()["occurred_at"] == "2025-02-28T16:57:00Z"
    assert answers == {"2025-03-01T12:00:00+19:03": 201, "0001-01-01T00:00:00+19:00": 422}
