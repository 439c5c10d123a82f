"""Field reports a CLA writes (daily, weekly, flash), their reviews and immutable versions, the
mission's headings, distribution lists and reporting schedule, and the records that make
reminders and missing-report notices go out once.

A report's life:

    DRAFT --submit--> SUBMITTED --accept--> ACCEPTED
                          |  ^
                    return|  |submit (a revision: a new version)
                          v  |
                        RETURNED

Every submission stores a numbered, immutable `ReportVersion` (what was sent, by whom, when);
every review a `ReportReview` (accepted or returned, the manager's comment). A CLA writes one
daily report per local day and one weekly report per ISO week (a database constraint); flash
reports are as many as there are events.

Content is kept as `sections` ({heading key: text}) under the mission's headings
(`ReportHeading`, defaults in `headings.py`), so a consolidated report can lay out each
report's sections, and full-text search can index one text per report (`Report.plain_text`).
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kiungo.alerts.models import Alert, Incident
from kiungo.forces.models import Base
from kiungo.geography.models import Area
from kiungo.missions.models import ArmedActor, Mission
from kiungo.people.models import CLAProfile, User


class Kind(models.TextChoices):
    DAILY = "daily", _("Daily report")
    WEEKLY = "weekly", _("Weekly report")
    FLASH = "flash", _("Flash report")


PERIODIC = (Kind.DAILY, Kind.WEEKLY)  # one per CLA and period


class ReportHeading(models.Model):
    """One heading of a mission's report form (a section the CLA writes under).

    A mission without headings for a kind uses the defaults (`headings.DEFAULTS`); the admin's
    "Add the default headings" action copies them here to be renamed, reordered, disabled or
    added to. A default heading left with an empty title is shown under its translated name.
    """

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="report_headings")
    kind = models.CharField(_("report type"), max_length=10, choices=Kind.choices)
    key = models.SlugField(
        _("key"), max_length=40, help_text=_("Stable name of the section; never shown.")
    )
    title = models.CharField(
        _("title"),
        max_length=120,
        blank=True,
        help_text=_("Leave empty to use the default heading's translated name."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    required = models.BooleanField(
        _("required"), default=False, help_text=_("Must be filled in to submit the report.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["mission", "kind", "position", "pk"]
        verbose_name = _("report heading")
        verbose_name_plural = _("report headings")
        constraints = [
            models.UniqueConstraint(
                fields=["mission", "kind", "key"], name="reportheading_unique_key"
            ),
        ]

    def __str__(self):
        return f"{self.mission} {self.kind}: {self.key}"


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")  # being written: only its CLA sees it
    SUBMITTED = "submitted", _("Submitted")  # waiting for the manager's review
    RETURNED = "returned", _("Returned for revision")  # the CLA revises and submits again
    ACCEPTED = "accepted", _("Accepted")


EDITABLE = (Status.DRAFT, Status.RETURNED)
SENT = (Status.SUBMITTED, Status.RETURNED, Status.ACCEPTED)  # submitted at least once


class Source(models.TextChoices):
    WEB = "web", _("Web form")
    SMS = "sms", _("SMS")


HARMS = (
    ("killed", _("Killed")),
    ("injured", _("Injured")),
    ("abducted", _("Abducted")),
    ("displaced", _("Displaced")),
)
SEXES = (("female", _("Female")), ("male", _("Male")), ("unknown", _("Sex unknown")))
VICTIM_FIELDS = tuple(f"{harm}_{sex}" for harm, _h in HARMS for sex, _s in SEXES)


def _victims(harm_label, sex_label):
    return models.PositiveIntegerField(f"{harm_label} — {sex_label}", default=0)


class Report(models.Model):
    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="reports")
    cla = models.ForeignKey(
        CLAProfile, on_delete=models.PROTECT, related_name="reports", verbose_name=_("CLA")
    )
    base = models.ForeignKey(
        Base, on_delete=models.PROTECT, related_name="reports", verbose_name=_("base")
    )
    kind = models.CharField(_("report type"), max_length=10, choices=Kind.choices)
    # Daily: the local day (start = end); weekly: Monday to Sunday of the ISO week; flash: the
    # local day of `occurred_at`. Days are in the mission's time zone.
    period_start = models.DateField(_("period from"), db_index=True)
    period_end = models.DateField(_("period until"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    source = models.CharField(_("sent by"), max_length=5, choices=Source.choices, default="web")
    nothing_to_report = models.BooleanField(_("nothing to report"), default=False)
    sections = models.JSONField(_("sections"), default=dict, blank=True)
    alerts = models.ManyToManyField(
        Alert, blank=True, related_name="reports", verbose_name=_("alerts")
    )
    incidents = models.ManyToManyField(
        Incident, blank=True, related_name="reports", verbose_name=_("incidents")
    )

    # Flash reports: where, when, who, and the victims by harm and sex.
    occurred_at = models.DateTimeField(_("when"), null=True, blank=True)
    area = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flash_reports",
        verbose_name=_("where"),
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    perpetrators = models.ManyToManyField(
        ArmedActor, blank=True, related_name="reports", verbose_name=_("alleged perpetrators")
    )
    killed_female = _victims(_("Killed"), _("Female"))
    killed_male = _victims(_("Killed"), _("Male"))
    killed_unknown = _victims(_("Killed"), _("Sex unknown"))
    injured_female = _victims(_("Injured"), _("Female"))
    injured_male = _victims(_("Injured"), _("Male"))
    injured_unknown = _victims(_("Injured"), _("Sex unknown"))
    abducted_female = _victims(_("Abducted"), _("Female"))
    abducted_male = _victims(_("Abducted"), _("Male"))
    abducted_unknown = _victims(_("Abducted"), _("Sex unknown"))
    displaced_female = _victims(_("Displaced"), _("Female"))
    displaced_male = _victims(_("Displaced"), _("Male"))
    displaced_unknown = _victims(_("Displaced"), _("Sex unknown"))

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last saved"), auto_now=True)
    # The first submission decides whether the report was on time; revisions do not move it.
    submitted_at = models.DateTimeField(_("first submitted"), null=True, blank=True)
    last_submitted_at = models.DateTimeField(_("last submitted"), null=True, blank=True)
    version = models.PositiveSmallIntegerField(_("versions submitted"), default=0)
    reviewed_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    class Meta:
        ordering = ["-period_start", "-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [
            models.Index(fields=["mission", "kind", "period_start"]),
            models.Index(fields=["base", "kind", "period_start"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cla", "kind", "period_start"],
                condition=Q(kind__in=["daily", "weekly"]),
                name="report_one_per_cla_and_period",
                violation_error_message=_("This CLA already has a report for this period."),
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="report_period_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(kind="daily") | Q(period_end=F("period_start")),
                name="report_daily_is_one_day",
            ),
            models.CheckConstraint(
                condition=~Q(kind="weekly") | Q(period_end=F("period_start") + timedelta(days=6)),
                name="report_weekly_is_one_week",
            ),
            models.CheckConstraint(
                condition=~Q(kind="flash") | Q(occurred_at__isnull=False),
                name="report_flash_has_time",
            ),
            models.CheckConstraint(
                condition=Q(nothing_to_report=False) | Q(kind="daily"),
                name="report_nothing_to_report_daily_only",
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True) | ~Q(status="draft"),
                name="report_draft_never_submitted",
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="report_point_valid",
                violation_error_message=_("Give both latitude and longitude, within range."),
            ),
            models.CheckConstraint(
                condition=Q(**{f"{name}__gte": 0 for name in VICTIM_FIELDS}),
                name="report_victims_not_negative",
                violation_error_message=_("Victim counts cannot be negative."),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.cla} {self.period_start}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE

    def victims(self) -> list[tuple[str, list[int]]]:
        """[(harm label, [female, male, unknown])] for the flash report's table."""
        return [
            (label, [getattr(self, f"{harm}_{sex}") for sex, _s in SEXES]) for harm, label in HARMS
        ]

    def victims_total(self) -> int:
        return sum(getattr(self, name) for name in VICTIM_FIELDS)

    def plain_text(self) -> str:
        """The report's words in one text (what full-text search indexes)."""
        return "\n".join(text for text in self.sections.values() if text)


class ReportVersion(models.Model):
    """What a submission sent: numbered from 1, never changed afterwards."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    content = models.JSONField(_("content"))  # snapshot: sections, flags, links, flash facts
    submitted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )
    submitted_at = models.DateTimeField(_("submitted"))
    source = models.CharField(_("sent by"), max_length=5, choices=Source.choices, default="web")

    class Meta:
        ordering = ["report", "number"]
        verbose_name = _("report version")
        verbose_name_plural = _("report versions")
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="reportversion_unique"),
        ]

    def __str__(self):
        return f"{self.report_id} v{self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("A submitted version cannot be changed."))
        super().save(*args, **kwargs)


class ReportReview(models.Model):
    """A manager's decision on a submitted version: accepted, or returned with a comment."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        RETURNED = "returned", _("Returned for revision")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="reviews")
    version = models.PositiveSmallIntegerField(_("version"))
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["report", "at"]
        verbose_name = _("report review")
        verbose_name_plural = _("report reviews")
        constraints = [
            # One decision per version: a second click (or a second manager) changes nothing.
            models.UniqueConstraint(fields=["report", "version"], name="reportreview_unique"),
            models.CheckConstraint(
                condition=~Q(decision="returned") | ~Q(comment=""),
                name="reportreview_return_says_why",
                violation_error_message=_("Say what to revise when returning a report."),
            ),
        ]

    def __str__(self):
        return f"{self.report_id} v{self.version} {self.decision}"


def validate_email_lines(value: str) -> None:
    for address in email_lines(value):
        validate_email(address)


def email_lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


class DistributionList(models.Model):
    """A section of the mission that receives reports by e-mail (flash reports at once; the
    consolidated report later)."""

    mission = models.ForeignKey(
        Mission, on_delete=models.CASCADE, related_name="distribution_lists"
    )
    name = models.CharField(_("section"), max_length=120, help_text=_("e.g. JOC, Civil Affairs"))
    addresses = models.TextField(
        _("e-mail addresses"),
        validators=[validate_email_lines],
        help_text=_("One address a line."),
    )
    receives_flash = models.BooleanField(_("flash reports"), default=True)
    receives_daily = models.BooleanField(_("consolidated daily report"), default=True)
    receives_weekly = models.BooleanField(_("consolidated weekly report"), default=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["mission", "name"]
        verbose_name = _("distribution list")
        verbose_name_plural = _("distribution lists")
        constraints = [
            models.UniqueConstraint(fields=["mission", "name"], name="distribution_unique_name"),
        ]

    def __str__(self):
        return f"{self.mission}: {self.name}"

    def emails(self) -> list[str]:
        return email_lines(self.addresses)


class Delivery(models.Model):
    """A report version e-mailed to a distribution list's address: the outbox row that carries
    it (its state shows on the report's page)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="deliveries")
    version = models.PositiveSmallIntegerField(_("version"))
    distribution = models.ForeignKey(
        DistributionList,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("distribution list"),
    )
    email = models.OneToOneField(
        "messaging.OutboundEmail", on_delete=models.CASCADE, related_name="report_delivery"
    )

    class Meta:
        ordering = ["report", "version", "pk"]
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")

    def __str__(self):
        return f"{self.report_id} v{self.version} -> {self.email_id}"


class ReportingSchedule(models.Model):
    """When a mission's CLAs must have sent their reports, in the mission's local time."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    mission = models.OneToOneField(
        Mission, on_delete=models.CASCADE, related_name="reporting_schedule"
    )
    daily_due = models.TimeField(
        _("daily report due at"), default="18:00", help_text=_("Local time, on the day itself.")
    )
    weekly_due_weekday = models.PositiveSmallIntegerField(
        _("weekly report due on"),
        choices=Weekday.choices,
        default=Weekday.MONDAY,
        help_text=_("The day of the week after the one reported on."),
    )
    weekly_due = models.TimeField(_("weekly report due at"), default="12:00")
    remind_before = models.PositiveIntegerField(
        _("remind minutes before the deadline"),
        default=60,
        help_text=_("0: no reminder. Reminders go by SMS to the CLA's registered phone."),
    )
    tell_managers = models.BooleanField(
        _("tell managers of missing reports"),
        default=True,
        help_text=_("After the deadline, each supervisor gets one e-mail listing the missing."),
    )

    class Meta:
        verbose_name = _("reporting schedule")
        verbose_name_plural = _("reporting schedules")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekly_due_weekday__lte=6), name="schedule_weekday_range"
            ),
            models.CheckConstraint(
                condition=Q(remind_before__lte=24 * 60),
                name="schedule_remind_within_a_day",
                violation_error_message=_("Remind at most 24 hours (1440 minutes) before."),
            ),
        ]

    def __str__(self):
        return str(self.mission)


class Notice(models.Model):
    """A reminder sent to a CLA, or a missing-report notice sent to a supervisor: the row is
    the claim. It is inserted in the transaction that queues the message, and the unique
    constraints let only one of two workers (or a restarted one) write it: the message goes
    out once per CLA (or supervisor), report type and period."""

    class What(models.TextChoices):
        REMINDER = "reminder", _("Reminder to the CLA")
        MISSING = "missing", _("Missing reports, to the supervisor")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    what = models.CharField(max_length=10, choices=What.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    period_start = models.DateField()
    cla = models.ForeignKey(
        CLAProfile, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    supervisor = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    count = models.PositiveIntegerField(default=1)  # CLAs named in a missing-report notice
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("reporting notice")
        verbose_name_plural = _("reporting notices")
        constraints = [
            models.UniqueConstraint(
                fields=["cla", "kind", "period_start"],
                condition=Q(what="reminder"),
                name="notice_one_reminder",
            ),
            models.UniqueConstraint(
                fields=["supervisor", "kind", "period_start"],
                condition=Q(what="missing"),
                name="notice_one_missing",
            ),
            models.CheckConstraint(
                condition=(Q(what="reminder") & Q(cla__isnull=False))
                | (Q(what="missing") & Q(supervisor__isnull=False)),
                name="notice_has_its_recipient",
            ),
        ]

    def __str__(self):
        return f"{self.what} {self.kind} {self.period_start}"


class ConsolidatedReport(models.Model):
    """The editable part of a mission's consolidated daily (or weekly) report: its summary,
    and how many times it was distributed. The rest is assembled from the period's reports,
    alerts and incidents each time it is shown (kiungo.reports.consolidated)."""

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="consolidated")
    kind = models.CharField(
        _("report type"), max_length=10, choices=[c for c in Kind.choices if c[0] != Kind.FLASH]
    )
    period_start = models.DateField(_("period from"))
    summary = models.TextField(_("summary"), blank=True)
    edited_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("summary edited by"),
    )
    edited_at = models.DateTimeField(_("summary edited"), null=True, blank=True)
    # Distribution rounds done: the send action claims the next round by a conditional UPDATE
    # on this number, so a double click or two officers at once send once.
    sent_rounds = models.PositiveSmallIntegerField(_("times distributed"), default=0)

    class Meta:
        ordering = ["mission", "kind", "-period_start"]
        verbose_name = _("consolidated report")
        verbose_name_plural = _("consolidated reports")
        constraints = [
            models.UniqueConstraint(
                fields=["mission", "kind", "period_start"], name="consolidated_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["daily", "weekly"]), name="consolidated_periodic_only"
            ),
        ]

    def __str__(self):
        return f"{self.mission} {self.kind} {self.period_start}"


class ConsolidatedDelivery(models.Model):
    """One e-mail of a consolidated report's distribution round to a list's address."""

    consolidated = models.ForeignKey(
        ConsolidatedReport, on_delete=models.CASCADE, related_name="deliveries"
    )
    round = models.PositiveSmallIntegerField(_("round"))
    distribution = models.ForeignKey(
        DistributionList,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("distribution list"),
    )
    email = models.OneToOneField(
        "messaging.OutboundEmail", on_delete=models.CASCADE, related_name="consolidated_delivery"
    )
    sent_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("sent by")
    )
    queued_at = models.DateTimeField(_("queued"))

    class Meta:
        ordering = ["consolidated", "round", "pk"]
        verbose_name = _("consolidated report delivery")
        verbose_name_plural = _("consolidated report deliveries")

    def __str__(self):
        return f"{self.consolidated_id} r{self.round} -> {self.email_id}"
