"""The JSON API (`/api/`): log alerts, read alerts and incidents, and answer incidents
(acknowledge, decide a response, close), with bearer tokens.

Every request carries `Authorization: Bearer kiu_…` (see `manage.py api_token`). What a token
may see and do is what its user may: every check goes through `kiungo.people.access`, and
objects outside the user's scope answer 404. Responses never carry a sender's phone number, a
contact's name or a sender hash: rows are read with `.values()` naming each field shown, so a
field added to a model cannot leak by accident.

The interactive documentation (`/api/docs`) is Swagger UI from the files bundled with
django-ninja ("ninja" in INSTALLED_APPS makes it use them instead of a CDN): field offices are
often offline.
"""

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.db.models import Exists, F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Header, NinjaAPI, Query, Schema, Status
from ninja import Path as PathParam
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer
from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    StringConstraints,
    field_validator,
    model_validator,
)

from kiungo.alerts import response as answers
from kiungo.alerts.intake import TEXT_LIMIT, log_alert
from kiungo.alerts.models import Alert, Incident, Outcome, Response
from kiungo.alerts.selectors import acting_unit
from kiungo.alerts.taxonomy import Threat
from kiungo.api.models import ApiToken
from kiungo.geography.models import Area
from kiungo.missions.models import Mission
from kiungo.network.models import Contact
from kiungo.people.access import (
    Capability,
    access,
    can_see,
    may,
    visible_alerts,
    visible_incidents,
)

logger = logging.getLogger(__name__)

MAX_PAGE = 200
DEFAULT_PAGE = 50
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of field devices drift
RETRY_AFTER_SECONDS = 5


# Authentication.


class TokenAuth(HttpBearer):
    """`Authorization: Bearer kiu_…`: a live token of an active user, else 401."""

    def __call__(self, request: HttpRequest):
        # Not HttpBearer.__call__: in DEBUG it logs an unexpected header whole (a secret).
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str):
        found = ApiToken.objects.for_token(token)
        if found is None:
            return None
        found.record_use()  # at most one write a minute per token
        request.user = found.user
        request.api_token = found
        return found.user


DESCRIPTION = """
Kiungo's API for field devices and integrations: log alerts, read alerts and incidents, and
answer incidents for a unit (acknowledge, decide a response, close).

**Authentication.** Every request carries `Authorization: Bearer kiu_…`. Tokens are issued by an
administrator (`manage.py api_token create <username> --name NAME`) and act with the rights of
that user: a token sees the alerts and incidents its user may see, and nothing else (anything
else answers 404). Unknown, revoked or inactive-user tokens answer 401.

**Logging alerts safely on poor networks.** Send an `Idempotency-Key` header (any unique string
up to 100 characters, e.g. a UUID made when the alert is written) with every `POST /api/alerts`,
and retry with the same key until an answer arrives: the alert is stored once. A retry of the
same request answers 200 with the first alert and `Idempotent-Replayed: true`; the same key with
different content answers 409. A 503 (database busy) carries `Retry-After`: try again then.

**Times** are ISO 8601 with an offset (`2025-03-01T14:05:00+01:00` or `…Z`); answers are in
UTC. In query strings, write `+` as `%2B` or use `Z`.

**Answering an incident** (`POST /api/incidents/{reference}/acknowledge`, `/respond`,
`/close`) needs the right to respond to alerts where the incident is (else 404). Each is safe
to repeat: a repeat of what is already recorded answers 200 with `"changed": false`. What the
incident's state refuses (a closed incident, no action without a reason) answers 422.

Responses never include a sender's phone number or a contact's name: sources appear as the
contact's pseudonym code.
"""

api = NinjaAPI(
    title="Kiungo API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=TokenAuth(),
    # No online validator badge (it would send the schema's address to swagger.io), and the
    # token is not kept in the browser's storage.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
)


# Errors.


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": "A valid API token is required: send 'Authorization: Bearer kiu_…'."},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="kiungo"'
    return response


@api.exception_handler(DatabaseError)
def database_unavailable(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    # Nothing was stored (each write is one transaction): the client may safely retry.
    logger.error("database error on %s %s", request.method, request.path, exc_info=exc)
    response = api.create_response(
        request,
        {"detail": "The database is busy or unavailable; nothing was changed. Retry shortly."},
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def field_error(field: str, message: str, kind: str = "value_error") -> dict:
    """One entry of a 422 answer, shaped like the ones ninja makes from schema validation."""
    return {"type": kind, "loc": ["body", "payload", field], "msg": message}


class Error(Schema):
    detail: str


class FieldError(Schema):
    type: str
    loc: list[str | int] = Field(description='Where, e.g. ["body", "payload", "place"].')
    msg: str


class ValidationErrors(Schema):
    detail: list[FieldError]


# Schemas.


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL characters; refuse them here rather than fail on save.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _in_utc(value: datetime | None) -> datetime | None:
    # Offsets up to ±23:59 parse, but PostgreSQL refuses more than ±15:59 (a DataError, which
    # would answer 503: retry), and at the ends of the calendar the moment has no UTC form.
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None


Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]  # in UTC once read

Slug = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[-\w]{1,20}$")]
PCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9]{2,20}$")
]
ContactCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[^\x00-\x1f]{1,20}$")
]
Reference = Annotated[str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z0-9]{1,12}$")]
ThreatCode = Literal[tuple(Threat.values)]  # a plain enum of values in the OpenAPI document
StatusCode = Literal[tuple(Incident.Status.values)]
ResponseCode = Literal[tuple(Response.values)]
OutcomeCode = Literal[tuple(Outcome.values)]
Note = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_no_nul)
]
LoggedSource = Literal["call", "radio", "in_person", "api", "device"]


class AlertIn(Schema):
    model_config = ConfigDict(extra="forbid")

    mission: Slug = Field(description="The mission's code.", examples=["MONUSCO"])
    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_LIMIT),
        AfterValidator(_no_nul),
    ] = Field(description="The alert as received (any language).")
    source: LoggedSource = Field(
        "api", description="How it was received: call, radio, in_person, api or device."
    )
    place: PCode | None = Field(
        None,
        description="P-code of the place. Without it, Kiungo places the alert from its text.",
        examples=["CD6101"],
    )
    latitude: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    threat: ThreatCode | None = Field(None, description="Without it, read from the text.")
    level: Slug | None = Field(
        None, description="A level code of the mission's policy, e.g. high. Without it, derived."
    )
    occurred_at: Moment | None = Field(
        None,
        description="When it happened (ISO 8601 with an offset). Default: when received.",
        examples=["2025-03-01T14:05:00+02:00"],
    )
    contact: ContactCode | None = Field(
        None, description="The source's pseudonym code (key contact), e.g. NK-BEN-017."
    )

    @field_validator("occurred_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > timezone.now() + FUTURE_TOLERANCE:
            raise ValueError("is in the future; check the device's clock")
        return value

    @model_validator(mode="after")
    def _point_complete(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class LevelOut(Schema):
    code: str
    name: str


class AreaOut(Schema):
    pcode: str
    name: str


class AlertOut(Schema):
    reference: str
    mission: str = Field(description="The mission's code.")
    source: str
    text: str
    language: str
    keyword: str
    structured: bool = Field(description="Whether the text followed the structured SMS code.")
    threat: str
    level: LevelOut
    area: AreaOut | None
    place_text: str
    place_method: str
    place_confidence: float
    latitude: float | None
    longitude: float | None
    occurred_at: datetime
    received_at: datetime
    needs_review: bool
    review_reasons: list[str]
    incident: str | None = Field(description="The incident's reference.")
    contact: str | None = Field(description="The source's pseudonym code, if a key contact.")


class IncidentOut(Schema):
    reference: str
    mission: str
    status: str
    threat: str
    level: LevelOut
    area: AreaOut | None
    first_reported_at: datetime
    last_reported_at: datetime
    alert_count: int
    source_count: int = Field(description="Distinct sources among its alerts.")
    merged_into: str | None = Field(description="For a merged incident, where its alerts went.")
    unit: str | None = Field(
        description="Code of the unit responsible; null while unrouted (no unit's area of "
        "responsibility holds the place: the early-warning cell assigns it)."
    )
    acknowledged_at: datetime | None = Field(description="When the unit first acknowledged.")
    response: ResponseCode | Literal[""] = Field(
        description="The unit's latest decision; empty while none is decided."
    )
    responded_at: datetime | None = Field(description="When the first response was decided.")
    outcome: OutcomeCode | Literal[""] = Field(description="How it ended; empty while open.")
    closed_at: datetime | None = Field(description="When it was closed or dismissed.")
    escalations: int = Field(description="Escalation steps taken so far.")
    next_escalation_at: datetime | None = Field(
        description="When the next escalation step falls due; null when none will."
    )


class IncidentDetailOut(IncidentOut):
    alerts: list[str] = Field(description="References of its alerts you may see, oldest first.")


class Page(Schema):
    count: int = Field(description="How many match in all.")
    limit: int
    offset: int


class AlertPage(Page):
    items: list[AlertOut]


class IncidentPage(Page):
    items: list[IncidentOut]


class Filters(Schema):
    mission: Slug | None = Field(None, description="Mission code.")
    area: PCode | None = Field(None, description="P-code: that place and everything below it.")
    level: Slug | None = Field(None, description="Level code.")
    threat: ThreatCode | None = None
    limit: int = Field(DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=2**31 - 1)


class AlertFilters(Filters):
    needs_review: bool | None = None
    since: Moment | None = Field(None, description="Received at or after.")
    until: Moment | None = Field(None, description="Received before.")


class IncidentFilters(Filters):
    status: StatusCode | None = None
    since: Moment | None = Field(None, description="Last reported at or after.")
    until: Moment | None = Field(None, description="First reported before.")


# Reading rows: only the fields shown, joined in the same query.

_PLACED = {
    "mission_code": F("mission__code"),
    "level_code": F("level__code"),
    "level_name": F("level__name"),
    "area_pcode": F("area__pcode"),
    "area_name": F("area__name"),
}
ALERT_FIELDS = (
    "reference",
    "source",
    "text",
    "language",
    "keyword",
    "structured",
    "threat",
    "place_text",
    "place_method",
    "place_confidence",
    "latitude",
    "longitude",
    "occurred_at",
    "received_at",
    "needs_review",
    "review_reasons",
)
INCIDENT_FIELDS = (
    "reference",
    "status",
    "threat",
    "first_reported_at",
    "last_reported_at",
    "alert_count",
    "source_count",
    "acknowledged_at",
    "response",
    "responded_at",
    "outcome",
    "closed_at",
    "escalations",
    "next_escalation_at",
)
INCIDENT_TIMES = (
    "first_reported_at",
    "last_reported_at",
    "acknowledged_at",
    "responded_at",
    "closed_at",
    "next_escalation_at",
)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _placed(row: dict) -> dict:
    return {
        "mission": row.pop("mission_code"),
        "level": {"code": row.pop("level_code"), "name": row.pop("level_name")},
        "area": (
            {"pcode": row.pop("area_pcode"), "name": row.pop("area_name")}
            if row["area_pcode"] is not None
            else None
        ),
    }


def alert_rows(alerts: QuerySet[Alert]) -> list[dict]:
    rows = alerts.values(
        *ALERT_FIELDS,
        **_PLACED,
        incident_reference=F("incident__reference"),
        contact_code=F("contact__code"),
    )
    result = []
    for row in rows:
        out = {key: row[key] for key in ALERT_FIELDS}
        out.update(_placed(row))
        out["occurred_at"], out["received_at"] = _utc(row["occurred_at"]), _utc(row["received_at"])
        out["review_reasons"] = list(row["review_reasons"] or [])
        out["incident"], out["contact"] = row["incident_reference"], row["contact_code"]
        result.append(out)
    return result


def incident_rows(incidents: QuerySet[Incident]) -> list[dict]:
    rows = incidents.values(
        *INCIDENT_FIELDS,
        **_PLACED,
        merged_into_reference=F("merged_into__reference"),
        unit_code=F("unit__code"),
    )
    result = []
    for row in rows:
        out = {key: row[key] for key in INCIDENT_FIELDS}
        out.update(_placed(row))
        for name in INCIDENT_TIMES:
            out[name] = _utc(row[name]) if row[name] is not None else None
        out["merged_into"] = row["merged_into_reference"]
        out["unit"] = row["unit_code"]
        result.append(out)
    return result


def _common_filters(queryset: QuerySet, filters: Filters) -> QuerySet:
    if filters.mission:
        queryset = queryset.filter(mission__code=filters.mission)
    if filters.area:
        # That place and everything below it (P-codes are paths), if it is a place at all.
        queryset = queryset.filter(
            Exists(Area.objects.filter(pcode=filters.area)),
            area__pcode__startswith=filters.area,
        )
    if filters.level:
        queryset = queryset.filter(level__code=filters.level)
    if filters.threat:
        queryset = queryset.filter(threat=filters.threat)
    return queryset


def _page(queryset: QuerySet, filters: Filters, rows) -> dict:
    start, end = filters.offset, filters.offset + filters.limit
    return {
        "count": queryset.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": rows(queryset[start:end]),
    }


def _user(request: HttpRequest):
    return request.auth


# Alerts.

_WRITE_RESPONSES = {
    200: AlertOut,
    201: AlertOut,
    400: Error,
    401: Error,
    403: Error,
    409: Error,
    422: ValidationErrors,
    503: Error,
}


@api.post(
    "/alerts",
    response=_WRITE_RESPONSES,
    summary="Log an alert",
    tags=["alerts"],
    description=(
        "Store an alert received by call, radio, in person or from a device. Kiungo "
        "understands the text (language, threat, level, place), lets the fields given here "
        "win, and groups it into an incident. 201 with the new alert; 200 with the first one "
        "when the same request is repeated with the same `Idempotency-Key`. Needs the right "
        "to log alerts in the mission (else 403); a `place` must lie where you may log."
    ),
)
def create_alert(
    request: HttpRequest,
    response: HttpResponse,
    payload: AlertIn,
    idempotency_key: str = Header(
        "",
        alias="Idempotency-Key",
        max_length=100,
        pattern=r"^[^\x00-\x1f]*$",
        description=(
            "Strongly recommended: a unique string per alert (e.g. a UUID), sent again "
            "unchanged on every retry, so that a retry never stores the alert twice."
        ),
    ),
):
    user = _user(request)
    if not may(user, Capability.LOG_ALERTS):
        raise HttpError(403, "This account may not log alerts.")
    mission = Mission.objects.filter(code=payload.mission).first()
    if mission is None:
        raise ValidationError(
            [field_error("mission", f"No mission with code {payload.mission!r}.", "unknown")]
        )
    if not may(user, Capability.LOG_ALERTS, mission.pk):
        raise HttpError(403, f"This account may not log alerts in {mission.code}.")
    if not mission.is_active:
        raise ValidationError(
            [field_error("mission", f"{mission.code} is closed: it takes no new alerts.")]
        )
    fields = _resolve_fields(user, mission, payload)
    idempotency_key = idempotency_key.strip()
    try:
        alert, created = log_alert(
            mission=mission, user=user, idempotency_key=idempotency_key, **fields
        )
    except ValueError:
        first = (
            Alert.objects.filter(created_by=user, idempotency_key=idempotency_key).first()
            if idempotency_key
            else None
        )
        if first is None:
            raise
        raise HttpError(
            409,
            f"The Idempotency-Key {idempotency_key!r} was already used for another alert "
            f"({first.reference}) with different content. Use a new key for a new alert; "
            "send exactly the same request to retry.",
        ) from None
    if not created:
        response["Idempotent-Replayed"] = "true"
    return Status(201 if created else 200, alert_rows(Alert.objects.filter(pk=alert.pk))[0])


def _resolve_fields(user, mission: Mission, payload: AlertIn) -> dict:
    """The keyword arguments of `log_alert`; 422 naming every unknown or refused field."""
    errors = []
    area = level = contact = None
    if payload.place:
        area = Area.objects.filter(mission=mission, pcode=payload.place).first()
        if area is None:
            errors.append(
                field_error(
                    "place", f"No place with P-code {payload.place!r} in {mission.code}.", "unknown"
                )
            )
        elif not can_see(user, area, Capability.LOG_ALERTS):
            errors.append(
                field_error(
                    "place",
                    f"{area.pcode} ({area.name}) is outside the area where you may log alerts.",
                    "out_of_scope",
                )
            )
    if payload.level:
        levels = {level.code: level for level in mission.alert_levels()}
        level = levels.get(payload.level)
        if level is None:
            errors.append(
                field_error(
                    "level",
                    f"No level {payload.level!r} in {mission.code}; use one of: "
                    + ", ".join(levels)
                    + ".",
                    "unknown",
                )
            )
    if payload.contact:
        contact = (
            Contact.objects.filter(mission=mission, code=payload.contact)
            .defer("name", "phone")
            .first()
        )
        if contact is None:
            errors.append(
                field_error(
                    "contact", f"No contact {payload.contact!r} in {mission.code}.", "unknown"
                )
            )
    if errors:
        raise ValidationError(errors)
    return {
        "text": payload.text,
        "source": payload.source,
        # In UTC, so that the same moment written with another offset is the same request.
        "occurred_at": _utc(payload.occurred_at) if payload.occurred_at else None,
        "contact": contact,
        "area": area,
        "threat": payload.threat,
        "level": level,
        "latitude": payload.latitude,
        "longitude": payload.longitude,
    }


@api.get(
    "/alerts",
    response={200: AlertPage, 401: Error, 422: ValidationErrors, 503: Error},
    summary="List alerts",
    tags=["alerts"],
    description="Alerts you may see, newest first (by time received).",
)
def list_alerts(request: HttpRequest, filters: Query[AlertFilters]):
    alerts = _common_filters(visible_alerts(_user(request)), filters)
    if filters.needs_review is not None:
        alerts = alerts.filter(needs_review=filters.needs_review)
    if filters.since:
        alerts = alerts.filter(received_at__gte=filters.since)
    if filters.until:
        alerts = alerts.filter(received_at__lt=filters.until)
    return _page(alerts.order_by("-received_at", "-pk"), filters, alert_rows)


@api.get(
    "/alerts/{reference}",
    response={200: AlertOut, 401: Error, 404: Error, 422: ValidationErrors, 503: Error},
    summary="One alert",
    tags=["alerts"],
)
def get_alert(request: HttpRequest, reference: PathParam[Reference]):
    rows = alert_rows(visible_alerts(_user(request)).filter(reference=reference))
    if not rows:
        raise HttpError(404, f"No alert {reference}.")
    return rows[0]


# Incidents.


@api.get(
    "/incidents",
    response={200: IncidentPage, 401: Error, 422: ValidationErrors, 503: Error},
    summary="List incidents",
    tags=["incidents"],
    description=(
        "Incidents you may see, most recently reported first. `since`/`until` keep the "
        "incidents reported during that period (last report at or after `since`, first "
        "report before `until`)."
    ),
)
def list_incidents(request: HttpRequest, filters: Query[IncidentFilters]):
    incidents = _common_filters(visible_incidents(_user(request)), filters)
    if filters.status:
        incidents = incidents.filter(status=filters.status)
    if filters.since:
        incidents = incidents.filter(last_reported_at__gte=filters.since)
    if filters.until:
        incidents = incidents.filter(first_reported_at__lt=filters.until)
    return _page(incidents.order_by("-last_reported_at", "-pk"), filters, incident_rows)


@api.get(
    "/incidents/{reference}",
    response={200: IncidentDetailOut, 401: Error, 404: Error, 422: ValidationErrors, 503: Error},
    summary="One incident, with its alerts' references",
    tags=["incidents"],
)
def get_incident(request: HttpRequest, reference: PathParam[Reference]):
    user = _user(request)
    rows = incident_rows(visible_incidents(user).filter(reference=reference))
    if not rows:
        raise HttpError(404, f"No incident {reference}.")
    incident = rows[0]
    # After a merge, some of its alerts may lie outside the user's scope: only visible ones.
    incident["alerts"] = list(
        visible_alerts(user)
        .filter(incident__reference=reference)
        .order_by("received_at", "pk")
        .values_list("reference", flat=True)
    )
    return incident


# Answering incidents: the unit's acknowledgement, response and closure.


class RespondIn(Schema):
    model_config = ConfigDict(extra="forbid")

    response: ResponseCode = Field(
        description="patrol_sent, arrived (the patrol is on site), referred (to national "
        "forces) or no_action."
    )
    reason: Note = Field("", description="Why: required with no_action, optional otherwise.")


class CloseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    outcome: OutcomeCode = Field(description="How the incident ended.")
    note: Note = Field("", description="Anything worth keeping on the timeline.")


class ActionOut(Schema):
    changed: bool = Field(
        description="False when this was already recorded (a repeat): nothing changed."
    )
    incident: IncidentOut


_ACTION_RESPONSES = {
    200: ActionOut,
    400: Error,  # a body that is not JSON
    401: Error,
    403: Error,
    404: Error,
    422: ValidationErrors,
    503: Error,
}


def _refusal(error: DjangoValidationError) -> dict:
    """The 422 entry for what the incident's state refuses (a closed incident, no reason)."""
    message = " ".join(error.messages)
    code = getattr(error, "code", None) or "invalid"
    if code == "reason":
        return field_error("reason", message, code)
    return {"type": code, "loc": ["path", "reference"], "msg": message}


def _answer(request: HttpRequest, reference: str, act) -> dict:
    """Run `act(incident, actor)` (which returns whether it changed anything) on an incident
    the user may answer; 403 without the right anywhere, 404 outside its scope."""
    user = _user(request)
    if not may(user, Capability.RESPOND_ALERTS):
        raise HttpError(403, "This account may not answer incidents.")
    try:
        incident = access(user, Incident, Capability.RESPOND_ALERTS, reference=reference)
    except Http404:
        raise HttpError(404, f"No incident {reference}.") from None
    actor = answers.Actor(user=user, unit=acting_unit(user, incident), channel="api")
    try:
        changed = act(incident, actor)
    except DjangoValidationError as error:
        raise ValidationError([_refusal(error)]) from None
    return {
        "changed": bool(changed),
        "incident": incident_rows(Incident.objects.filter(pk=incident.pk))[0],
    }


@api.post(
    "/incidents/{reference}/acknowledge",
    response=_ACTION_RESPONSES,
    summary="Acknowledge an incident",
    tags=["incidents"],
    description=(
        "The unit has seen the incident: its escalation now counts from the deadline to "
        'decide a response. A repeat answers 200 with `"changed": false`.'
    ),
)
def acknowledge_incident(request: HttpRequest, reference: PathParam[Reference]):
    return _answer(request, reference, answers.acknowledge)


@api.post(
    "/incidents/{reference}/respond",
    response=_ACTION_RESPONSES,
    summary="Record the unit's response",
    tags=["incidents"],
    description=(
        "The unit's decision (acknowledging the incident too, if that had not happened). The "
        "first response stops escalation. `no_action` needs a `reason` (else 422). Repeating "
        'the response already recorded answers 200 with `"changed": false`.'
    ),
)
def respond_to_incident(request: HttpRequest, reference: PathParam[Reference], payload: RespondIn):
    def act(incident, actor):
        return answers.respond(incident, payload.response, actor, reason=payload.reason)

    return _answer(request, reference, act)


@api.post(
    "/incidents/{reference}/close",
    response=_ACTION_RESPONSES,
    summary="Close an incident with its outcome",
    tags=["incidents"],
    description=(
        "Escalation stops. Closing again with the same outcome answers 200 with "
        '`"changed": false`; an incident already closed otherwise, dismissed or merged '
        "answers 422."
    ),
)
def close_incident(request: HttpRequest, reference: PathParam[Reference], payload: CloseIn):
    def act(incident, actor):
        if incident.status == Incident.Status.CLOSED and incident.outcome == payload.outcome:
            return False
        answers.close(incident, payload.outcome, actor, note=payload.note)
        return True

    return _answer(request, reference, act)


# CLA safety: check-ins and SOS (kiungo/safety/api.py).
from kiungo.safety.api import router as safety_router  # noqa: E402 -- needs the schemas above

api.add_router("", safety_router)

__all__ = ["api"]
