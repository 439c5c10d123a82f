"""The API's safety endpoints (mounted on kiungo.api.api's NinjaAPI): a CLA's check-in and
SOS from a field device, for the CLA the token belongs to. Import only through kiungo.api.api."""

from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Header, Router, Schema, Status
from ninja.errors import HttpError, ValidationError
from pydantic import ConfigDict, model_validator

from kiungo.api.api import Error, Note, PCode, ValidationErrors, field_error
from kiungo.geography.models import Area
from kiungo.people.deployment import cla_mission
from kiungo.people.models import CLAProfile
from kiungo.safety import checkins
from kiungo.safety.models import Alarm, Channel, SafetyStatus

router = Router(tags=["safety"])


class LocationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    place: PCode | None = Field(
        None, description="P-code of where the CLA is (optional).", examples=["CD6101"]
    )
    latitude: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    note: Note = Field("", description="Anything worth saying (kept with the record).")

    @model_validator(mode="after")
    def _point_complete(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class CheckInOut(Schema):
    checked_in_at: datetime
    next_due_at: datetime | None = Field(description="When the next check-in is due (UTC).")
    place: str | None = Field(description="P-code of the place given, if any.")


class AlarmOut(Schema):
    raised_at: datetime
    last_signal_at: datetime
    signals: int = Field(description="How many times this open SOS was sent.")


_RESPONSES = {
    200: CheckInOut,
    201: CheckInOut,
    400: Error,
    401: Error,
    403: Error,
    422: ValidationErrors,
    503: Error,
}


def _cla_and_place(request: HttpRequest, payload: LocationIn) -> tuple[CLAProfile, dict]:
    profile = CLAProfile.objects.filter(user=request.auth).select_related("base__mission").first()
    if profile is None:
        raise HttpError(403, "Only a CLA's account checks in.")
    mission = cla_mission(profile)
    if mission is None:
        raise ValidationError(
            [{"type": "not_deployed", "loc": ["body"], "msg": "This CLA is not deployed."}]
        )
    area = None
    if payload.place:
        area = Area.objects.filter(mission=mission, pcode=payload.place).first()
        if area is None:
            raise ValidationError(
                [field_error("place", f"No place {payload.place!r} in {mission.code}.", "unknown")]
            )
    return profile, {"area": area, "latitude": payload.latitude, "longitude": payload.longitude}


def _refused(error: DjangoValidationError):
    return ValidationError([{"type": "invalid", "loc": ["body"], "msg": " ".join(error.messages)}])


@router.post(
    "/check-ins",
    response=_RESPONSES,
    summary="Check in: the CLA is safe",
    description=(
        "For the CLA the token belongs to (403 for any other account). The next check-in "
        "then falls due by the mission's policy, and any escalation of a missed one stops. "
        "Send an `Idempotency-Key` and retry with it until an answer arrives: the check-in "
        "is stored once (a replay answers 200 with the first one). Visible only to the CLA's "
        "managers and the mission's security officers."
    ),
)
def create_check_in(
    request: HttpRequest,
    response: HttpResponse,
    payload: LocationIn,
    idempotency_key: str = Header(
        "",
        alias="Idempotency-Key",
        max_length=100,
        pattern=r"^[^\x00-\x1f]*$",
        description="A unique string per check-in, sent again unchanged on every retry.",
    ),
):
    profile, place = _cla_and_place(request, payload)
    try:
        check, created = checkins.check_in(
            profile,
            channel=Channel.API,
            note=payload.note,
            idempotency_key=idempotency_key.strip(),
            **place,
        )
    except DjangoValidationError as error:
        raise _refused(error) from None
    if not created:
        response["Idempotent-Replayed"] = "true"
    due = SafetyStatus.objects.filter(cla=profile).values_list("due_at", flat=True).first()
    return Status(
        201 if created else 200,
        {
            "checked_in_at": check.at,
            "next_due_at": due,
            "place": check.area.pcode if check.area_id else None,
        },
    )


@router.post(
    "/sos",
    response={201: AlarmOut, 400: Error, 401: Error, 403: Error, 422: ValidationErrors, 503: Error},
    summary="SOS: the CLA needs help now",
    description=(
        "For the CLA the token belongs to (403 for any other account). The CLA's manager and "
        "the mission's security officers are told at once; the SOS stays open until one of "
        "them closes it. Sending it again while it is open counts one more signal and tells "
        "them again."
    ),
)
def create_sos(request: HttpRequest, payload: LocationIn):
    profile, place = _cla_and_place(request, payload)
    try:
        alarm = checkins.raise_alarm(
            profile, Alarm.Kind.SOS, channel=Channel.API, note=payload.note, **place
        )
    except DjangoValidationError as error:
        raise _refused(error) from None
    return Status(
        201,
        {
            "raised_at": alarm.raised_at,
            "last_signal_at": alarm.last_signal_at,
            "signals": alarm.signals,
        },
    )
