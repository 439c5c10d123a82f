"""The JSON API: tokens, logging alerts (idempotent), reading within scope, the documents."""

import json
import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from kiungo.alerts.intake import log_alert
from kiungo.alerts.models import Alert, Incident
from kiungo.api.models import ApiToken, hash_token
from kiungo.geography.models import Area
from kiungo.lib.testing import ROLE_USERS
from kiungo.network.models import Contact

PHONE = "+243997654321"
CONTACT_NAME = "Kavira Masika"


class Api:
    """A test client speaking to /api/ with one user's bearer token."""

    def __init__(self, token: str | None, client: Client | None = None):
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params):
        return self.client.get(f"/api{path}", params, headers=self.headers)

    def post(self, body, key: str | None = None, raw: str | None = None):
        headers = dict(self.headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(
            "/api/alerts", data=data, content_type="application/json", headers=headers
        )


@pytest.fixture
def tokens(world):
    return {name: ApiToken.issue(user, "test")[1] for name, user in world.users.items()}


@pytest.fixture
def as_user(tokens):
    return lambda name: Api(tokens[name])


@pytest.fixture
def juba(world):
    return Area.objects.get(pcode="SS01010101001")


@pytest.fixture
def alerts(world, juba):
    """One alert in each of Beni, Butembo, Bunia (world.mission) and Juba (the other one)."""
    ewo = world.users["ewo"]
    made = {}
    for name, area, threat in [
        ("beni", world.beni, "attack"),
        ("butembo", world.butembo, "looting"),
        ("bunia", world.bunia, "abduction"),
    ]:
        made[name], _created = log_alert(
            mission=world.mission,
            user=ewo,
            text=f"ALERTE {area.name} attaque",
            source="call",
            area=area,
            threat=threat,
        )
    made["juba"], _created = log_alert(
        mission=world.other_mission,
        user=world.users["other_ewo"],
        text="ALERT Juba attack",
        source="call",
        area=juba,
    )
    return made


def body(world, **changes):
    payload = {"mission": world.mission.code, "text": "ALERTE Beni attaque", "place": "CD6101"}
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not None}


# Tokens.


def test_a_token_is_shown_once_and_only_its_hash_is_stored(world):
    token, raw = ApiToken.issue(world.users["ewo"], "tablet")
    assert raw.startswith("kiu_") and len(raw) > 40
    assert token.prefix == raw[:8] and token.token_hash == hash_token(raw)
    stored = ApiToken.objects.filter(pk=token.pk).values()[0]
    assert raw not in json.dumps(stored, default=str)


def test_no_token_wrong_token_or_other_scheme_is_401(world, tokens):
    assert Api(None).get("/alerts").status_code == 401
    missing = Api(None).get("/alerts")
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in missing.json()["detail"]
    assert Api("kiu_not-a-real-token").get("/alerts").status_code == 401
    assert Api("not-even-the-prefix").get("/alerts").status_code == 401
    basic = Client().get("/api/alerts", headers={"Authorization": f"Basic {tokens['ewo']}"})
    assert basic.status_code == 401
    assert Api(tokens["ewo"]).get("/alerts").status_code == 200


def test_a_revoked_token_is_401(world, tokens):
    ApiToken.objects.get(user=world.users["ewo"]).revoke()
    assert Api(tokens["ewo"]).get("/alerts").status_code == 401


def test_an_inactive_users_token_is_401(world, tokens):
    user = world.users["ewo"]
    user.is_active = False
    user.save()
    assert Api(tokens["ewo"]).get("/alerts").status_code == 401
    assert Api(tokens["ewo"]).post(body(world)).status_code == 401


def test_a_browser_session_is_not_enough(world, tokens):
    client = Client()
    client.force_login(world.users["ewo"])
    assert client.get("/api/alerts").status_code == 401


def test_use_is_recorded_at_most_once_a_minute(world, tokens):
    api = Api(tokens["ewo"])
    token = ApiToken.objects.get(user=world.users["ewo"])
    assert token.last_used_at is None
    api.get("/alerts")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    api.get("/alerts")
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("/alerts")
    token.refresh_from_db()
    assert token.last_used_at > first


# Logging alerts.


def test_logging_an_alert_answers_201_with_the_alert(world, as_user):
    response = as_user("ewo").post(body(world, threat="attack", source="call"), key="k-1")
    assert response.status_code == 201, response.content
    data = response.json()
    alert = Alert.objects.get()
    assert data["reference"] == alert.reference
    assert (data["mission"], data["source"], data["threat"]) == ("TESTMISSION", "call", "attack")
    assert data["area"] == {"pcode": "CD6101", "name": "Territoire de Beni"}
    assert data["incident"] == alert.incident.reference
    assert data["received_at"].endswith("Z") and data["occurred_at"].endswith("Z")
    assert set(data["level"]) == {"code", "name"}
    assert alert.created_by == world.users["ewo"] and alert.idempotency_key == "k-1"
    assert "Idempotent-Replayed" not in response


def test_source_defaults_to_api_and_a_local_time_is_stored_in_utc(world, as_user):
    occurred = "2025-03-01T14:05:00+02:00"
    data = as_user("ewo").post(body(world, occurred_at=occurred)).json()
    assert data["source"] == "api"
    assert data["occurred_at"].startswith("2025-03-01T12:05:00")
    assert Alert.objects.get().occurred_at == datetime(2025, 3, 1, 12, 5, tzinfo=UTC)


def test_the_same_request_with_the_same_key_is_replayed(world, as_user):
    api = as_user("ewo")
    first = api.post(body(world), key="tablet-3/0001")
    again = api.post(body(world), key="tablet-3/0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Alert.objects.count() == 1


def test_a_double_submit_stores_one_alert(world, as_user):
    api = as_user("cla")
    responses = [api.post(body(world), key="double") for _ in range(2)]
    assert sorted(response.status_code for response in responses) == [200, 201]
    assert Alert.objects.filter(idempotency_key="double").count() == 1
    # Without a key, the same two requests are two alerts: hence "strongly recommended".
    api.post(body(world))
    api.post(body(world))
    assert Alert.objects.count() == 3


def test_the_same_moment_with_another_offset_is_the_same_request(world, as_user):
    api = as_user("ewo")
    first = api.post(body(world, occurred_at="2025-03-01T14:05:00+02:00"), key="k")
    again = api.post(body(world, occurred_at="2025-03-01T12:05:00Z"), key="k")
    assert (first.status_code, again.status_code) == (201, 200)


def test_the_same_key_with_other_content_is_409(world, as_user):
    api = as_user("ewo")
    first = api.post(body(world), key="k-1")
    conflict = api.post(body(world, text="ALERTE Beni enlèvement"), key="k-1")
    assert conflict.status_code == 409
    detail = conflict.json()["detail"]
    assert "Idempotency-Key" in detail and first.json()["reference"] in detail
    assert Alert.objects.count() == 1


def test_keys_belong_to_their_user(world, as_user):
    assert as_user("ewo").post(body(world), key="shared").status_code == 201
    other = as_user("cla").post(body(world, text="ALERTE Beni pillage"), key="shared")
    assert other.status_code == 201
    assert Alert.objects.count() == 2


@pytest.mark.parametrize("name", ["analyst", "duty", "leadership", "outsider", "other_ewo"])
def test_without_the_right_to_log_in_the_mission_is_403(world, as_user, name):
    response = as_user(name).post(body(world))
    assert response.status_code == 403
    assert "may not log alerts" in response.json()["detail"]
    assert not Alert.objects.exists()


@pytest.mark.parametrize("name", ["administrator", "ewo", "manager", "cla"])
def test_who_may_log_alerts_in_beni(world, as_user, name):
    assert as_user(name).post(body(world)).status_code == 201


def _future():
    return (timezone.now() + timedelta(minutes=30)).isoformat()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"text": None}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "ALERTE\x00Beni"}, "text"),
        ({"text": 42}, "text"),
        ({"mission": None}, "mission"),
        ({"mission": "NOSUCHMISSION"}, "mission"),
        ({"source": "sms"}, "source"),
        ({"threat": "dragons"}, "threat"),
        ({"place": "CD9999"}, "place"),
        ({"place": "SS0101"}, "place"),  # a real P-code, of another mission
        ({"place": "not a pcode"}, "place"),
        ({"level": "apocalyptic"}, "level"),
        ({"contact": "NK-NOBODY"}, "contact"),
        ({"occurred_at": "2025-03-01T14:05:00"}, "occurred_at"),  # no offset
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "FUTURE"}, "occurred_at"),
        ({"latitude": 0.49}, "longitude"),
        ({"latitude": 91, "longitude": 29.4}, "latitude"),
        ({"area": "CD6101"}, "area"),  # not a field: a typo must not be silently ignored
    ],
)
def test_invalid_input_is_422_naming_the_field(world, as_user, changes, field):
    if changes.get("occurred_at") == "FUTURE":
        changes = {"occurred_at": _future()}
    response = as_user("ewo").post(body(world, **changes))
    assert response.status_code == 422, response.content
    errors = response.json()["detail"]
    assert any(field in error["loc"] or field in error["msg"] for error in errors), errors
    assert not Alert.objects.exists()


def test_unknown_level_lists_the_missions_levels(world, as_user):
    response = as_user("ewo").post(body(world, level="apocalyptic"))
    message = response.json()["detail"][0]["msg"]
    assert "critical" in message and "high" in message


def test_every_unknown_field_is_reported_at_once(world, as_user):
    response = as_user("ewo").post(body(world, place="CD9999", level="x", contact="nobody"))
    assert response.status_code == 422
    assert {error["loc"][-1] for error in response.json()["detail"]} == {
        "place",
        "level",
        "contact",
    }


def test_a_place_outside_the_users_scope_is_422(world, as_user):
    response = as_user("cla").post(body(world, place=world.bunia.pcode))
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"][-1] == "place" and "outside" in error["msg"]
    assert as_user("cla_bunia").post(body(world, place=world.bunia.pcode)).status_code == 201


def test_a_closed_mission_takes_no_alerts(world, as_user):
    world.mission.closed_on = timezone.now().date()
    world.mission.save()
    response = as_user("ewo").post(body(world))
    assert response.status_code == 422 and "closed" in response.content.decode()


@pytest.mark.parametrize(
    ("raw", "status"),
    [("{not json", 400), ("", 422), ("[1, 2]", 422), ('"text"', 422), ("null", 422)],
)
def test_a_body_that_is_not_an_object_is_400_or_422(world, as_user, raw, status):
    response = as_user("ewo").post(None, raw=raw)
    assert response.status_code == status, response.content


def test_an_overlong_idempotency_key_is_422(world, as_user):
    response = as_user("ewo").post(body(world), key="k" * 101)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["detail"][0]["loc"]


def test_a_database_refusal_is_503_with_retry_after(world, as_user, monkeypatch):
    def refuse(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("kiungo.api.api.log_alert", refuse)
    response = as_user("ewo").post(body(world), key="k")
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "Retry" in response.json()["detail"]


def test_a_database_refusal_while_checking_the_token_is_503(world, tokens, monkeypatch):
    def refuse(self, raw):
        raise OperationalError("database is locked")

    monkeypatch.setattr("kiungo.api.models.ApiTokenQuerySet.for_token", refuse)
    response = Api(tokens["ewo"]).get("/alerts")
    assert response.status_code == 503 and "Retry-After" in response


def test_a_busy_database_does_not_fail_a_read_for_bookkeeping(world, tokens, monkeypatch):
    def refuse(self, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr("django.db.models.QuerySet.update", refuse)
    assert Api(tokens["ewo"]).get("/alerts").status_code == 200
    assert ApiToken.objects.get(user=world.users["ewo"]).last_used_at is None


def test_posting_needs_no_csrf_token(world, tokens):
    client = Client(enforce_csrf_checks=True)
    assert Api(tokens["ewo"], client).post(body(world)).status_code == 201


# Sources stay protected.


def test_no_phone_number_name_or_sender_hash_in_any_response(world, as_user):
    contact = Contact.objects.create(
        mission=world.mission, code="NK-BEN-001", name=CONTACT_NAME, phone=PHONE
    )
    api = as_user("ewo")
    created = api.post(body(world, contact="NK-BEN-001"))
    assert created.status_code == 201
    alert = Alert.objects.get()
    assert alert.contact == contact
    Alert.objects.filter(pk=alert.pk).update(sender_hash="f" * 64)
    responses = [
        created,
        api.get("/alerts"),
        api.get(f"/alerts/{alert.reference}"),
        api.get("/incidents"),
        api.get(f"/incidents/{alert.incident.reference}"),
    ]
    for response in responses:
        assert response.status_code in (200, 201)
        text = response.content.decode()
        for secret in (PHONE, PHONE[4:], "997654321", CONTACT_NAME, "Kavira", "f" * 64):
            assert secret not in text, (secret, text)
    assert created.json()["contact"] == "NK-BEN-001"
    assert api.get(f"/alerts/{alert.reference}").json()["contact"] == "NK-BEN-001"


# Reading within scope.

SEES = {
    "administrator": {"beni", "butembo", "bunia"},
    "leadership": {"beni", "butembo", "bunia"},
    "analyst": {"beni", "butembo", "bunia"},
    "ewo": {"beni", "butembo", "bunia"},
    "manager": {"beni", "butembo"},  # Nord-Kivu
    "duty": {"beni", "butembo"},  # the battalion's companies' areas
    "cla": {"beni"},  # Beni base
    "cla_bunia": {"bunia"},
    "other_ewo": {"juba"},  # the other mission only
    "outsider": set(),
}


def test_who_sees_which_alert(world, as_user, alerts):
    assert set(SEES) == set(ROLE_USERS)
    reference = {alert.reference: name for name, alert in alerts.items()}
    wrong = []
    for user, expected in SEES.items():
        api = as_user(user)
        listed = {reference[item["reference"]] for item in api.get("/alerts").json()["items"]}
        if listed != expected:
            wrong.append(f"{user} lists {sorted(listed)}, expected {sorted(expected)}")
        for name, alert in alerts.items():
            status = api.get(f"/alerts/{alert.reference}").status_code
            if status != (200 if name in expected else 404):
                wrong.append(f"{user} gets {status} for the {name} alert")
    assert not wrong, "\n".join(wrong)


def test_who_sees_which_incident(world, as_user, alerts):
    reference = {alert.incident.reference: name for name, alert in alerts.items()}
    wrong = []
    for user, expected in SEES.items():
        api = as_user(user)
        listed = {reference[item["reference"]] for item in api.get("/incidents").json()["items"]}
        if listed != expected:
            wrong.append(f"{user} lists {sorted(listed)}, expected {sorted(expected)}")
        for name, alert in alerts.items():
            status = api.get(f"/incidents/{alert.incident.reference}").status_code
            if status != (200 if name in expected else 404):
                wrong.append(f"{user} gets {status} for the {name} incident")
    assert not wrong, "\n".join(wrong)


def test_an_unknown_or_malformed_reference_is_404_or_422(world, as_user):
    api = as_user("ewo")
    assert api.get("/alerts/A999999").status_code == 404
    assert api.get("/incidents/K99999").status_code == 404
    assert api.get("/alerts/not-a-reference!").status_code in (404, 422)


def test_references_are_case_blind(world, as_user, alerts):
    reference = alerts["beni"].reference
    assert as_user("ewo").get(f"/alerts/{reference.lower()}").status_code == 200


def test_an_alert_in_full(world, as_user, alerts):
    alert = alerts["beni"]
    data = as_user("cla").get(f"/alerts/{alert.reference}").json()
    assert set(data) == {
        "reference",
        "mission",
        "source",
        "text",
        "language",
        "keyword",
        "structured",
        "threat",
        "level",
        "area",
        "place_text",
        "place_method",
        "place_confidence",
        "latitude",
        "longitude",
        "occurred_at",
        "received_at",
        "needs_review",
        "review_reasons",
        "incident",
        "contact",
    }
    assert data["area"] == {"pcode": world.beni.pcode, "name": "Beni"}
    assert data["level"] == {"code": alert.level.code, "name": alert.level.name}
    assert (data["place_method"], data["place_confidence"]) == ("person", 1.0)
    assert data["text"] == "ALERTE Beni attaque" and data["contact"] is None


def test_an_incident_lists_its_visible_alerts(world, as_user, alerts):
    beni = alerts["beni"]
    second, _created = log_alert(
        mission=world.mission,
        user=world.users["ewo"],
        text="ALERTE Beni attaque encore",
        source="radio",
        area=world.beni,
        threat="attack",
    )
    assert second.incident_id == beni.incident_id
    data = as_user("cla").get(f"/incidents/{beni.incident.reference}").json()
    assert data["alerts"] == [beni.reference, second.reference]
    assert (data["status"], data["alert_count"], data["merged_into"]) == ("open", 2, None)
    assert data["area"]["pcode"] == world.beni.pcode


def _references(response):
    assert response.status_code == 200, response.content
    return {item["reference"] for item in response.json()["items"]}


def test_alert_filters(world, as_user, alerts):
    api = as_user("ewo")
    beni, butembo, bunia = alerts["beni"], alerts["butembo"], alerts["bunia"]
    everything = {beni.reference, butembo.reference, bunia.reference}
    assert _references(api.get("/alerts", mission="TESTMISSION")) == everything
    assert _references(api.get("/alerts", mission="OTHERMISSION")) == set()
    assert _references(api.get("/alerts", area="CD61")) == {beni.reference, butembo.reference}
    assert _references(api.get("/alerts", area="cd6101")) == {beni.reference}
    assert _references(api.get("/alerts", area="CD6")) == set()  # not a place
    assert _references(api.get("/alerts", threat="looting")) == {butembo.reference}
    critical = world.mission.levels.get(code="critical")
    Alert.objects.filter(pk=bunia.pk).update(level=critical)
    assert _references(api.get("/alerts", level="critical")) == {bunia.reference}
    Alert.objects.filter(pk__in=[beni.pk, butembo.pk, bunia.pk]).update(needs_review=False)
    Alert.objects.filter(pk=beni.pk).update(needs_review=True, review_reasons=["threat"])
    assert _references(api.get("/alerts", needs_review="true")) == {beni.reference}
    assert _references(api.get("/alerts", needs_review="false")) == everything - {beni.reference}
    two_days_ago = timezone.now() - timedelta(days=2)
    Alert.objects.filter(pk=bunia.pk).update(received_at=two_days_ago)
    yesterday = (timezone.now() - timedelta(days=1)).astimezone(UTC)
    since = yesterday.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _references(api.get("/alerts", since=since)) == {beni.reference, butembo.reference}
    assert _references(api.get("/alerts", until=since)) == {bunia.reference}
    assert api.get("/alerts", since="2025-01-01T00:00:00").status_code == 422  # no offset
    assert api.get("/alerts", threat="dragons").status_code == 422
    assert api.get("/alerts", mission="\x00").status_code == 422


def test_incident_filters(world, as_user, alerts):
    api = as_user("ewo")
    beni, bunia = alerts["beni"].incident, alerts["bunia"].incident
    assert _references(api.get("/incidents", area="CD54")) == {bunia.reference}
    assert _references(api.get("/incidents", threat="attack")) == {beni.reference}
    Incident.objects.filter(pk=bunia.pk).update(status="closed")
    assert _references(api.get("/incidents", status="closed")) == {bunia.reference}
    assert bunia.reference not in _references(api.get("/incidents", status="open"))
    past = timezone.now() - timedelta(days=3)
    Incident.objects.filter(pk=bunia.pk).update(first_reported_at=past, last_reported_at=past)
    since = (timezone.now() - timedelta(days=1)).astimezone(UTC).isoformat()
    assert bunia.reference not in _references(api.get("/incidents", since=since))
    assert _references(api.get("/incidents", until=since)) == {bunia.reference}
    assert api.get("/incidents", status="lost").status_code == 422


def test_pagination_newest_first(world, as_user):
    made = [
        log_alert(
            mission=world.mission,
            user=world.users["ewo"],
            text=f"ALERTE Beni attaque {n}",
            source="call",
            area=world.beni,
        )[0]
        for n in range(5)
    ]
    for n, alert in enumerate(made):  # distinct times, oldest first
        Alert.objects.filter(pk=alert.pk).update(
            received_at=timezone.now() - timedelta(minutes=10 - n)
        )
    newest_first = [alert.reference for alert in reversed(made)]
    api = as_user("ewo")
    page = api.get("/alerts", limit=2).json()
    assert (page["count"], page["limit"], page["offset"]) == (5, 2, 0)
    assert [item["reference"] for item in page["items"]] == newest_first[:2]
    page = api.get("/alerts", limit=2, offset=2).json()
    assert [item["reference"] for item in page["items"]] == newest_first[2:4]
    page = api.get("/alerts", limit=2, offset=4).json()
    assert [item["reference"] for item in page["items"]] == newest_first[4:]
    assert api.get("/alerts", offset=10).json()["items"] == []
    assert api.get("/alerts", limit=50).json()["limit"] == 50
    for bad in ({"limit": 201}, {"limit": 0}, {"offset": -1}, {"limit": "many"}):
        assert api.get("/alerts", **bad).status_code == 422, bad


def test_a_page_of_200_alerts_takes_a_few_queries(world, as_user, django_assert_max_num_queries):
    contact = Contact.objects.create(mission=world.mission, code="NK-BEN-002", phone=PHONE)
    first, _created = log_alert(
        mission=world.mission,
        user=world.users["ewo"],
        text="ALERTE Beni attaque",
        source="call",
        area=world.beni,
        contact=contact,
    )
    Alert.objects.bulk_create(
        Alert(
            mission=world.mission,
            source="call",
            text=f"ALERTE Beni attaque {n}",
            threat=first.threat,
            level=first.level,
            area=world.beni,
            contact=contact,
            incident=first.incident,
            occurred_at=first.occurred_at,
            received_at=first.received_at,
        )
        for n in range(210)
    )
    for name in ("ewo", "cla"):  # a whole-mission scope and a unit's scope
        api = as_user(name)
        api.get("/alerts")  # the token's use is recorded once; count the steady state
        with django_assert_max_num_queries(8):
            page = api.get("/alerts", limit=200).json()
        assert len(page["items"]) == 200 and page["count"] == 211
        assert {item["contact"] for item in page["items"]} == {"NK-BEN-002"}
    incidents = as_user("ewo")
    with django_assert_max_num_queries(8):
        incidents.get(f"/incidents/{first.incident.reference}")


# The documents.


def test_the_openapi_document_lists_the_paths(world):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["info"]["title"] == "Kiungo API"
    assert {
        "/api/alerts",
        "/api/alerts/{reference}",
        "/api/incidents",
        "/api/incidents/{reference}",
    } <= set(document["paths"])
    assert not any("assets" in path for path in document["paths"])
    post = document["paths"]["/api/alerts"]["post"]
    assert {"200", "201", "409", "422", "503"} <= set(post["responses"])
    headers = [p["name"] for p in post["parameters"] if p["in"] == "header"]
    assert headers == ["Idempotency-Key"]
    schemes = document["components"]["securitySchemes"]
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes.values())


def test_the_docs_page_loads_nothing_from_outside(world):
    client = Client()
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "https://" not in html and "http://" not in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(sources) >= 3
    for source in sources:
        assert source.startswith("/static/ninja/"), source
        asset = client.get(source)
        assert asset.status_code == 200, source
        b"".join(asset.streaming_content)
    assert "/api/openapi.json" in html


# The management command.


def test_the_api_token_command(world):
    out, err = StringIO(), StringIO()
    call_command("api_token", "create", "ewo", "--name", "Beni tablet", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("kiu_") and "not shown again" in err.getvalue()
    assert Api(raw).get("/alerts").status_code == 200
    token = ApiToken.objects.get(token_hash=hash_token(raw))

    out = StringIO()
    call_command("api_token", "list", "ewo", stdout=out)
    listing = out.getvalue()
    assert token.prefix in listing and "Beni tablet" in listing and "active" in listing
    assert raw not in listing

    out = StringIO()
    call_command("api_token", "revoke", token.prefix, stdout=out)
    assert "Revoked" in out.getvalue()
    assert Api(raw).get("/alerts").status_code == 401
    out = StringIO()
    call_command("api_token", "list", "ewo", stdout=out)
    assert "revoked" in out.getvalue()

    with pytest.raises(CommandError, match="No token"):
        call_command("api_token", "revoke", "kiu_zzzz")
    with pytest.raises(CommandError, match="No user"):
        call_command("api_token", "create", "nobody", "--name", "x")
    world.users["cla"].is_active = False
    world.users["cla"].save()
    with pytest.raises(CommandError, match="inactive"):
        call_command("api_token", "create", "cla", "--name", "x")
