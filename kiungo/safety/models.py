"""CLA safety: each mission's check-in policy, each CLA's check-ins and current safety state,
and the alarms (an SOS, a duress word, a missed check-in) that stay open until handled."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiungo.geography.models import Area
from kiungo.lib.text import fold
from kiungo.missions.models import Mission
from kiungo.people.models import CLAProfile, User

# The SMS words a CLA's registered phone sends (folded: case and accents do not matter).
CHECK_IN_WORDS = {"ok", "safe", "bien"}
SOS_WORDS = {"sos"}


class CheckInPolicy(models.Model):
    """How often a mission's CLAs check in, and who is told, when, if one does not.

    A missed check-in is escalated in three steps counted from its deadline: after the grace
    period the CLA's manager (their supervisor), then the mission's security officers, then
    the other CLA managers whose area covers the CLA's base.
    """

    class Schedule(models.TextChoices):
        EVERY = "every", _("Every N hours")
        DAILY = "daily", _("Once a day, by a local time")

    mission = models.OneToOneField(
        Mission, on_delete=models.CASCADE, related_name="check_in_policy"
    )
    active = models.BooleanField(_("active"), default=True)
    schedule = models.CharField(
        _("schedule"), max_length=5, choices=Schedule.choices, default=Schedule.EVERY
    )
    every_hours = models.PositiveSmallIntegerField(
        _("every (hours)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
        help_text=_("With 'every N hours': hours allowed between two check-ins."),
    )
    daily_by = models.TimeField(
        _("daily by (local time)"),
        null=True,
        blank=True,
        help_text=_("With 'once a day': the local time by which each day's check-in is due."),
    )
    grace_minutes = models.PositiveSmallIntegerField(
        _("grace (minutes)"),
        default=60,
        help_text=_("After the deadline, before the CLA's manager is told."),
    )
    security_after_minutes = models.PositiveSmallIntegerField(
        _("security officers told after (minutes)"),
        default=60,
        help_text=_("After the manager was told, if the CLA still has not checked in."),
    )
    region_after_minutes = models.PositiveSmallIntegerField(
        _("other managers told after (minutes)"),
        default=120,
        help_text=_("After the security officers were told."),
    )
    duress_word = models.CharField(
        _("duress word"),
        max_length=30,
        blank=True,
        help_text=_(
            "A discreet word a CLA under threat sends by SMS instead of a check-in: it raises "
            "an SOS, and the answer looks like an ordinary check-in confirmation. One word."
        ),
    )

    class Meta:
        verbose_name = _("check-in policy")
        verbose_name_plural = _("check-in policies")
        constraints = [
            models.CheckConstraint(
                condition=~Q(schedule="daily") | Q(daily_by__isnull=False),
                name="checkinpolicy_daily_needs_time",
                violation_error_message=_("A daily schedule needs the local time it is due by."),
            ),
        ]

    def __str__(self):
        return str(self.mission)

    def clean(self):
        word = fold(self.duress_word)
        if self.duress_word and (" " in word or not word):
            raise ValidationError({"duress_word": _("The duress word must be one word.")})
        if word in CHECK_IN_WORDS | SOS_WORDS:
            raise ValidationError(
                {"duress_word": _("The duress word must differ from OK, SAFE, BIEN and SOS.")}
            )
        if self.schedule == self.Schedule.DAILY and self.daily_by is None:
            raise ValidationError(
                {"daily_by": _("A daily schedule needs the local time it is due by.")}
            )

    @property
    def folded_duress_word(self) -> str:
        return fold(self.duress_word)

    def next_due(self, after: datetime) -> datetime:
        """When the check-in following one made at `after` is due."""
        if self.schedule == self.Schedule.DAILY:
            zone = ZoneInfo(self.mission.time_zone)
            day: date = timezone.localtime(after, zone).date() + timedelta(days=1)
            return datetime.combine(day, self.daily_by or time(18), tzinfo=zone)
        return after + timedelta(hours=self.every_hours)

    def first_due_from(self, moment: datetime) -> datetime:
        """The first deadline of a CLA starting (or coming back) at `moment`."""
        if self.schedule == self.Schedule.DAILY:
            zone = ZoneInfo(self.mission.time_zone)
            local = timezone.localtime(moment, zone)
            due = datetime.combine(local.date(), self.daily_by or time(18), tzinfo=zone)
            return due if due > local else due + timedelta(days=1)
        return moment + timedelta(hours=self.every_hours)

    def step_offsets(self) -> list[timedelta]:
        """When each escalation step falls due, counted from the missed deadline."""
        grace = timedelta(minutes=self.grace_minutes)
        security = grace + timedelta(minutes=self.security_after_minutes)
        return [grace, security, security + timedelta(minutes=self.region_after_minutes)]


class EscalationTarget(models.TextChoices):
    MANAGER = "manager", _("The CLA's manager")
    SECURITY = "security", _("The mission's security officers")
    REGION = "region", _("The region's other CLA managers")


STEP_TARGETS = [EscalationTarget.MANAGER, EscalationTarget.SECURITY, EscalationTarget.REGION]


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    SMS = "sms", _("SMS")
    API = "api", _("API")


class Located(models.Model):
    """Where the CLA said they were: an area and/or a point (both optional)."""

    area = models.ForeignKey(
        Area, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class CheckIn(Located):
    """A CLA saying "I am safe", through the web, an SMS from their registered phone or the API."""

    cla = models.ForeignKey(CLAProfile, on_delete=models.CASCADE, related_name="check_ins")
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(_("when"), db_index=True)
    channel = models.CharField(_("through"), max_length=3, choices=Channel.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # A client's retry of the same check-in (API `Idempotency-Key`) is stored once.
    idempotency_key = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        constraints = [
            models.UniqueConstraint(
                fields=["cla", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="checkin_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="checkin_point_valid",
            ),
        ]

    def __str__(self):
        return f"{self.cla} {self.at:%Y-%m-%d %H:%M}"


class SafetyStatus(models.Model):
    """A CLA's current safety state: when the next check-in is due and how far a missed one
    has been escalated. The escalation columns are claimed by kiungo.lib.deadlines, exactly
    as an incident's are; a check-in moves `due_at` forward and resets them."""

    cla = models.OneToOneField(CLAProfile, on_delete=models.CASCADE, related_name="safety")
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(_("next check-in due"), null=True, blank=True)
    last_check_in = models.ForeignKey(
        CheckIn, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    escalations = models.PositiveSmallIntegerField(_("escalation steps taken"), default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("safety status")
        verbose_name_plural = _("safety statuses")

    def __str__(self):
        return str(self.cla)

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.due_at is not None and self.due_at < (now or timezone.now())


class Alarm(Located):
    """An SOS, a duress word, or a missed check-in: open until handled.

    An SOS or duress alarm is closed by a manager or security officer, with a note; a missed
    check-in closes by itself when the CLA checks in. At most one open alarm of each kind per
    CLA: a repeated SOS is counted on the open one (and told again).
    """

    class Kind(models.TextChoices):
        SOS = "sos", _("SOS")
        DURESS = "duress", _("Duress")  # the discreet word: the CLA may be watched
        MISSED = "missed", _("Missed check-in")

    cla = models.ForeignKey(CLAProfile, on_delete=models.CASCADE, related_name="alarms")
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices)
    channel = models.CharField(_("through"), max_length=6, default="system")
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    last_signal_at = models.DateTimeField(_("last signal"))
    signals = models.PositiveSmallIntegerField(_("signals"), default=1)
    note = models.CharField(_("note"), max_length=300, blank=True)
    steps = models.JSONField(default=list, blank=True)  # who was told, when
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    close_note = models.CharField(_("closing note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        constraints = [
            models.UniqueConstraint(
                fields=["cla", "kind"],
                condition=Q(closed_at__isnull=True),
                name="alarm_one_open_per_cla_and_kind",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | ~Q(close_note=""),
                name="alarm_closed_with_note",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.cla} {self.raised_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
