"""Alerts (one message or call) and incidents (one event, corroborated by its alerts)."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiungo.alerts.taxonomy import Threat
from kiungo.geography.models import Area
from kiungo.lib.references import new_reference
from kiungo.messaging.models import InboundMessage
from kiungo.missions.models import AlertLevel, Mission
from kiungo.network.models import Contact


def new_incident_reference() -> str:
    return new_reference("K", 6)


def new_alert_reference() -> str:
    return new_reference("A", 6)


class Response(models.TextChoices):
    """What the responsible unit decided (kiungo.alerts.response)."""

    PATROL_SENT = "patrol_sent", _("Patrol sent")
    ARRIVED = "arrived", _("Patrol arrived on site")
    REFERRED = "referred", _("Referred to national forces")
    NO_ACTION = "no_action", _("No action")


class Outcome(models.TextChoices):
    """How an incident ended, recorded when it is closed."""

    DETERRED = "deterred", _("Threat deterred")
    CLASHED = "clashed", _("Clash with the attackers")
    REFERRED = "referred", _("Handled by national forces")
    NOTHING_FOUND = "nothing_found", _("Nothing found on site")
    FALSE_ALARM = "false_alarm", _("False alarm")
    TOO_LATE = "too_late", _("Arrived too late")
    OTHER = "other", _("Other")


class Incident(models.Model):
    """OPEN > CLOSED or DISMISSED, or MERGED into another incident (its alerts moved there).

    Routing (kiungo.alerts.routing): when it opens, an incident goes to the unit whose area of
    responsibility holds its place (`unit`, `base`; both empty if none does, for the
    early-warning cell to assign) and gets its deadlines from its level, counted from the first
    report. A rise in level, a merge, a split or a correction re-routes it; an early-warning
    officer may reassign it to another unit of the mission.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")  # receiving alerts, awaiting response
        CLOSED = "closed", _("Closed")
        DISMISSED = "dismissed", _("Dismissed")  # not credible or not for the mission
        MERGED = "merged", _("Merged")  # its alerts now belong to `merged_into`

    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="incidents")
    reference = models.CharField(
        _("reference"), max_length=12, unique=True, default=new_incident_reference
    )
    area = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("place"),
    )
    threat = models.CharField(_("threat"), max_length=20, choices=Threat.choices)
    level = models.ForeignKey(
        AlertLevel, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("level")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    first_reported_at = models.DateTimeField(_("first reported"))
    last_reported_at = models.DateTimeField(_("last reported"), db_index=True)
    alert_count = models.PositiveIntegerField(_("alerts"), default=0)
    source_count = models.PositiveIntegerField(_("distinct sources"), default=0)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged"
    )
    unit = models.ForeignKey(
        "forces.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("responsible unit"),
    )
    base = models.ForeignKey(
        "forces.Base",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("base"),
    )
    routed_at = models.DateTimeField(_("routed"), null=True, blank=True)
    acknowledge_due_at = models.DateTimeField(
        _("acknowledge by"), null=True, blank=True, db_index=True
    )
    respond_due_at = models.DateTimeField(
        _("decide a response by"), null=True, blank=True, db_index=True
    )

    # Response (kiungo.alerts.response): each first time is kept; the history is in events.
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by_unit = models.ForeignKey(
        "forces.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    response = models.CharField(_("response"), max_length=20, choices=Response.choices, blank=True)
    responded_at = models.DateTimeField(_("response decided"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("patrol on site"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    # Escalation (kiungo.alerts.escalation): steps of the level's chain already taken, and
    # when the next one falls due (NULL: nothing more to escalate). The worker claims a step
    # by a conditional UPDATE on both, so a step is taken once whatever the number of workers.
    escalations = models.PositiveSmallIntegerField(_("escalation steps taken"), default=0)
    next_escalation_at = models.DateTimeField(
        _("next escalation"), null=True, blank=True, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_reported_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [models.Index(fields=["mission", "status", "area", "threat"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="incident_merged_has_target",
            ),
            models.CheckConstraint(
                condition=Q(response="") | Q(responded_at__isnull=False),
                name="incident_response_has_time",
            ),
        ]

    def __str__(self):
        return self.reference

    def _past(self, due) -> bool:
        return self.status == self.Status.OPEN and due is not None and due < timezone.now()

    def mark_merged_into(self, target: "Incident") -> None:
        """This incident's alerts now belong to `target`: keep it, empty, for its history."""
        self.status = self.Status.MERGED
        self.merged_into = target
        self.alert_count = self.source_count = 0
        self.next_escalation_at = None
        self.save(
            update_fields=[
                "status",
                "merged_into",
                "alert_count",
                "source_count",
                "next_escalation_at",
            ]
        )

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def require_open(self) -> None:
        """Raise ValidationError unless the incident still takes answers and decisions."""
        if not self.is_open:
            raise ValidationError(
                _("Incident %(reference)s is %(status)s: nothing more can be recorded.")
                % {"reference": self.reference, "status": self.get_status_display().lower()},
                code="not_open",
            )

    @property
    def acknowledge_overdue(self) -> bool:
        """Open, not acknowledged, and past its deadline to acknowledge."""
        return self.acknowledged_at is None and self._past(self.acknowledge_due_at)

    @property
    def respond_overdue(self) -> bool:
        """Open, no response decided, and past its deadline to decide one."""
        return self.responded_at is None and self._past(self.respond_due_at)

    @property
    def overdue(self) -> bool:
        return self.acknowledge_overdue or self.respond_overdue

    @property
    def pending_deadline(self):
        """The deadline the unit must meet next (None once a response is decided)."""
        if not self.is_open or self.responded_at is not None:
            return None
        return self.acknowledge_due_at if self.acknowledged_at is None else self.respond_due_at


class Alert(models.Model):
    class Source(models.TextChoices):
        SMS = "sms", _("SMS")
        CALL = "call", _("Phone call")
        RADIO = "radio", _("Radio")
        IN_PERSON = "in_person", _("In person")
        API = "api", _("API")
        DEVICE = "device", _("Field device")

    class PlaceMethod(models.TextChoices):
        PCODE = "pcode", _("P-code")
        NAME = "name", _("Name or alias")
        FUZZY = "fuzzy", _("Close spelling")
        CONTACT_HOME = "contact_home", _("Contact's home locality")
        POINT = "point", _("Map point")
        PERSON = "person", _("Set by a person")
        NONE = "none", _("Not found")

    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="alerts")
    reference = models.CharField(
        _("reference"), max_length=12, unique=True, default=new_alert_reference
    )
    source = models.CharField(_("channel"), max_length=10, choices=Source.choices)
    inbound = models.OneToOneField(
        InboundMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="alert"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("logged by"),
    )
    idempotency_key = models.CharField(max_length=100, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    contact = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("source contact"),
    )
    sender_hash = models.CharField(max_length=64, blank=True)

    text = models.TextField(_("text as received"))
    language = models.CharField(_("language"), max_length=8, blank=True)
    keyword = models.CharField(_("keyword"), max_length=30, blank=True)
    structured = models.BooleanField(_("structured code"), default=False)
    threat = models.CharField(_("threat"), max_length=20, choices=Threat.choices)
    level = models.ForeignKey(
        AlertLevel, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("level")
    )

    area = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("place"),
    )
    place_text = models.CharField(_("place as given"), max_length=200, blank=True)
    place_method = models.CharField(
        _("placed by"), max_length=15, choices=PlaceMethod.choices, default=PlaceMethod.NONE
    )
    place_confidence = models.FloatField(_("placement confidence"), default=0.0)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    occurred_at = models.DateTimeField(_("reported at"))
    received_at = models.DateTimeField(_("received"), db_index=True)
    needs_review = models.BooleanField(_("needs review"), default=False)
    review_reasons = models.JSONField(default=list, blank=True)
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [models.Index(fields=["mission", "received_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="alert_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(place_confidence__gte=0, place_confidence__lte=1),
                name="alert_confidence_range",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def source_key(self) -> str:
        """What makes two alerts come from the same source (for corroboration counts)."""
        if self.contact_id:
            return f"contact:{self.contact_id}"
        if self.sender_hash:
            return f"sender:{self.sender_hash}"
        if self.created_by_id:
            return f"user:{self.created_by_id}"
        return f"alert:{self.pk}"


class AlertEvent(models.Model):
    """Immutable history of an alert or incident: who did what, when, through which channel."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    channel = models.CharField(_("through"), max_length=10, default="system")
    kind = models.CharField(_("what"), max_length=30)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self):
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def record(
        cls, kind, *, at, actor=None, channel="system", incident=None, alert=None, details=None
    ) -> "AlertEvent":
        """Append one event to the timeline (events are never changed afterwards)."""
        return cls.objects.create(
            kind=kind,
            at=at,
            actor=actor,
            channel=channel,
            incident=incident,
            alert=alert,
            details=details or {},
        )


CORROBORATION_WINDOW = timedelta(hours=6)
