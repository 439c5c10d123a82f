"""The API's answers to incidents: acknowledge, respond, close (kiungo.alerts.response)."""

import json

import pytest
from django.test import Client

from kiungo.alerts.intake import log_alert
from kiungo.alerts.models import AlertEvent, Incident, Outcome, Response
from kiungo.alerts.routing import reassign
from kiungo.api.models import ApiToken
from kiungo.lib.testing import ROLE_USERS


class Api:
    """A test client speaking to /api/ with one user's bearer token."""

    def __init__(self, token: str | None):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str):
        return self.client.get(f"/api{path}", headers=self.headers)

    def post(self, path: str, body=None, raw: str | None = None):
        data = raw if raw is not None else json.dumps(body or {})
        return self.client.post(
            f"/api{path}", data=data, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def tokens(world):
    return {name: ApiToken.issue(user, "test")[1] for name, user in world.users.items()}


@pytest.fixture
def as_user(tokens):
    return lambda name: Api(tokens[name])


def report(world, area, threat="attack") -> Incident:
    alert, _created = log_alert(
        mission=world.mission,
        user=world.users["ewo"],
        text="Attaque",
        source="call",
        area=area,
        threat=threat,
    )
    return alert.incident


@pytest.fixture
def beni(world):
    return report(world, world.beni)


@pytest.fixture
def bunia(world):
    return report(world, world.bunia)


def fresh(incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def events(incident, kind):
    return list(AlertEvent.objects.filter(incident=incident, kind=kind).order_by("pk"))


# Acknowledging.


def test_acknowledge(world, as_user, beni):
    answer = as_user("duty").post(f"/incidents/{beni.reference}/acknowledge")
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert data["changed"] is True
    incident = fresh(beni)
    assert incident.acknowledged_at is not None
    assert data["incident"]["reference"] == beni.reference
    assert data["incident"]["acknowledged_at"].endswith("Z")
    assert data["incident"]["next_escalation_at"] is not None
    [event] = events(beni, "acknowledged")
    assert (event.actor, event.channel) == (world.users["duty"], "api")
    # The duty officer holds indbatt, above the incident's company: they answer for it.
    assert event.details["unit"] == "indbatt"
    assert incident.acknowledged_by_unit == world.battalion_a


def test_acknowledging_again_answers_200_unchanged(world, as_user, beni):
    api = as_user("duty")
    first = api.post(f"/incidents/{beni.reference}/acknowledge")
    again = api.post(f"/incidents/{beni.reference}/acknowledge")
    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["changed"], again.json()["changed"]) == (True, False)
    assert again.json()["incident"] == first.json()["incident"]
    assert len(events(beni, "acknowledged")) == 1


def test_an_early_warning_officer_answers_for_no_unit(world, as_user, beni):
    assert as_user("ewo").post(f"/incidents/{beni.reference}/acknowledge").status_code == 200
    [event] = events(beni, "acknowledged")
    assert "unit" not in event.details and event.actor == world.users["ewo"]
    assert fresh(beni).acknowledged_by_unit == world.company_beni  # the incident's own unit


def test_a_duty_officer_outside_the_incidents_chain_answers_for_no_unit(world, as_user, beni):
    # Reassigned to a company of another battalion; the place is still in indbatt's area.
    reassign(beni, world.company_bunia, world.users["ewo"], "Closer to Bunia's patrol")
    assert as_user("duty").post(f"/incidents/{beni.reference}/acknowledge").status_code == 200
    [event] = events(beni, "acknowledged")
    assert "unit" not in event.details
    assert fresh(beni).acknowledged_by_unit == world.company_bunia


def test_references_are_case_blind(as_user, beni):
    answer = as_user("duty").post(f"/incidents/{beni.reference.lower()}/acknowledge")
    assert answer.status_code == 200


# Responding.


@pytest.mark.parametrize("action", [r for r in Response if r != Response.NO_ACTION])
def test_respond(world, as_user, beni, action):
    answer = as_user("duty").post(f"/incidents/{beni.reference}/respond", {"response": action})
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert data["changed"] is True
    assert data["incident"]["response"] == action.value
    assert data["incident"]["responded_at"].endswith("Z")
    assert data["incident"]["acknowledged_at"] == data["incident"]["responded_at"]
    assert data["incident"]["next_escalation_at"] is None
    [event] = events(beni, "responded")
    assert (event.channel, event.details["response"]) == ("api", action.value)
    assert fresh(beni).response == action


def test_no_action_with_a_reason(world, as_user, beni):
    body = {"response": "no_action", "reason": "  Road cut by the river "}
    answer = as_user("duty").post(f"/incidents/{beni.reference}/respond", body)
    assert answer.status_code == 200
    [event] = events(beni, "responded")
    assert event.details["reason"] == "Road cut by the river"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_no_action_without_a_reason_is_422_and_changes_nothing(world, as_user, beni, reason):
    body = {"response": "no_action"} | ({"reason": reason} if reason is not None else {})
    answer = as_user("duty").post(f"/incidents/{beni.reference}/respond", body)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "payload", "reason"]
    assert problem["type"] == "reason"
    assert problem["msg"] == "Say why no action is taken."
    incident = fresh(beni)
    assert (incident.response, incident.responded_at, incident.acknowledged_at) == ("", None, None)
    assert not events(beni, "responded")


def test_the_same_response_again_answers_200_unchanged(as_user, beni):
    api = as_user("duty")
    body = {"response": "patrol_sent"}
    assert api.post(f"/incidents/{beni.reference}/respond", body).json()["changed"] is True
    again = api.post(f"/incidents/{beni.reference}/respond", body)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert len(events(beni, "responded")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"response": "shrugged"},
        {},
        {"response": "patrol_sent", "unit": "indbatt"},  # unknown fields are refused
        {"response": "no_action", "reason": "x" * 501},
        {"response": "no_action", "reason": "too\x00far"},
    ],
)
def test_an_invalid_body_is_422(as_user, beni, body):
    answer = as_user("duty").post(f"/incidents/{beni.reference}/respond", body)
    assert answer.status_code == 422
    assert fresh(beni).response == ""


# Closing.


def test_close(world, as_user, beni):
    body = {"outcome": "deterred", "note": "All calm at dusk"}
    answer = as_user("duty").post(f"/incidents/{beni.reference}/close", body)
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert data["changed"] is True
    assert data["incident"]["status"] == "closed"
    assert data["incident"]["outcome"] == "deterred"
    assert data["incident"]["closed_at"].endswith("Z")
    assert data["incident"]["next_escalation_at"] is None
    [event] = events(beni, "closed")
    assert event.channel == "api"
    assert event.details == {"unit": "indbatt", "outcome": "deterred", "note": "All calm at dusk"}


def test_closing_again_with_the_same_outcome_answers_200_unchanged(as_user, beni):
    api = as_user("duty")
    assert api.post(f"/incidents/{beni.reference}/close", {"outcome": "false_alarm"}).json()[
        "changed"
    ]
    again = api.post(f"/incidents/{beni.reference}/close", {"outcome": "false_alarm"})
    assert again.status_code == 200 and again.json()["changed"] is False
    other = api.post(f"/incidents/{beni.reference}/close", {"outcome": "deterred"})
    assert other.status_code == 422
    assert fresh(beni).outcome == Outcome.FALSE_ALARM
    assert len(events(beni, "closed")) == 1


def test_close_needs_a_known_outcome(as_user, beni):
    api = as_user("duty")
    assert api.post(f"/incidents/{beni.reference}/close", {}).status_code == 422
    assert api.post(f"/incidents/{beni.reference}/close", {"outcome": "won"}).status_code == 422
    assert fresh(beni).status == Incident.Status.OPEN


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("acknowledge", None),
        ("respond", {"response": "patrol_sent"}),
        ("close", {"outcome": "other"}),
    ],
)
def test_a_closed_or_merged_incident_is_422_with_the_reason(world, as_user, beni, path, body):
    as_user("ewo").post(f"/incidents/{beni.reference}/close", {"outcome": "deterred"})
    answer = as_user("duty").post(f"/incidents/{beni.reference}/{path}", body)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["type"] == "not_open"
    assert problem["loc"] == ["path", "reference"]
    assert beni.reference in problem["msg"] and "closed" in problem["msg"]


def test_a_merged_incident_is_422(world, as_user, beni):
    target = report(world, world.beni, threat="looting")
    fresh(beni).mark_merged_into(target)
    answer = as_user("duty").post(f"/incidents/{beni.reference}/acknowledge")
    assert answer.status_code == 422
    assert "merged" in answer.json()["detail"][0]["msg"]
    assert fresh(target).acknowledged_at is None


# Who may answer.

ANSWERS = {
    "administrator": {"beni", "bunia"},
    "ewo": {"beni", "bunia"},
    "duty": {"beni"},  # indbatt's area only
}
NO_RIGHT = {"leadership", "analyst", "manager", "cla", "cla_bunia", "outsider"}


def test_who_may_answer_which_incident(world, as_user, beni, bunia):
    wrong = []
    for name in ROLE_USERS:
        for place, incident in (("beni", beni), ("bunia", bunia)):
            status = as_user(name).post(f"/incidents/{incident.reference}/acknowledge").status_code
            if place in ANSWERS.get(name, set()):
                expected = {200}
            elif name in NO_RIGHT:
                expected = {403}  # no right to answer anywhere: the same for every reference
            else:
                expected = {404}  # outside their scope: as if it did not exist
            if status not in expected:
                wrong.append(f"{name} on {place}: {status}, expected {expected}")
            AlertEvent.objects.filter(kind="acknowledged").delete()
            Incident.objects.update(acknowledged_at=None, acknowledged_by_unit=None)
    assert not wrong, "\n".join(wrong)


def test_outside_scope_changes_nothing_and_reads_as_missing(world, as_user, bunia):
    answer = as_user("duty").post(f"/incidents/{bunia.reference}/respond", {"response": "referred"})
    assert answer.status_code == 404
    assert answer.json() == {"detail": f"No incident {bunia.reference}."}
    assert fresh(bunia).response == ""
    unknown = as_user("duty").post("/incidents/K222222/acknowledge")
    assert unknown.status_code == 404 and unknown.json() == {"detail": "No incident K222222."}


def test_without_the_right_to_answer_is_403(world, as_user, beni):
    for path, body in [("acknowledge", None), ("close", {"outcome": "deterred"})]:
        answer = as_user("analyst").post(f"/incidents/{beni.reference}/{path}", body)
        assert answer.status_code == 403
    assert fresh(beni).status == Incident.Status.OPEN and fresh(beni).acknowledged_at is None


def test_no_token_is_401(beni):
    answer = Api(None).post(f"/incidents/{beni.reference}/acknowledge")
    assert answer.status_code == 401
    assert fresh(beni).acknowledged_at is None


def test_a_browser_session_is_not_enough(world, beni):
    client = Client()
    client.force_login(world.users["duty"])
    answer = client.post(f"/api/incidents/{beni.reference}/acknowledge")
    assert answer.status_code == 401


# Reading the response fields.


def test_incidents_show_the_response_fields(world, as_user, beni, bunia):
    as_user("duty").post(f"/incidents/{beni.reference}/respond", {"response": "patrol_sent"})
    api = as_user("ewo")
    detail = api.get(f"/incidents/{beni.reference}").json()
    assert detail["response"] == "patrol_sent"
    assert detail["acknowledged_at"] == detail["responded_at"]
    assert (detail["outcome"], detail["closed_at"]) == ("", None)
    assert (detail["escalations"], detail["next_escalation_at"]) == (0, None)
    listed = {item["reference"]: item for item in api.get("/incidents").json()["items"]}
    untouched = listed[bunia.reference]
    assert (untouched["response"], untouched["acknowledged_at"]) == ("", None)
    assert untouched["next_escalation_at"].endswith("Z")
    assert listed[beni.reference]["response"] == "patrol_sent"


def test_the_openapi_document_lists_the_answers(world):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    paths = document["paths"]
    for action in ("acknowledge", "respond", "close"):
        post = paths[f"/api/incidents/{{reference}}/{action}"]["post"]
        assert {"200", "401", "403", "404", "422"} <= set(post["responses"])
    schemas = document["components"]["schemas"]
    assert set(Response.values) <= set(json.dumps(schemas["RespondIn"]).split('"'))
    assert set(Outcome.values) <= set(json.dumps(schemas["CloseIn"]).split('"'))
    assert "next_escalation_at" in schemas["IncidentOut"]["properties"]
