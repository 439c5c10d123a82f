"""Community protection committees, their versioned protection plans, and field visits.

Committee members are at risk like sources (armed groups see them as informants), so Kiungo
keeps no name for them at all: a member is a role, a category and a sex. The committee's own
register of names stays with the committee; the share of women and the mix of categories,
which the mission needs, come from these rows.

A plan's lifecycle (one committee, versions 1, 2, …):

    DRAFT > ACTIVE > SUPERSEDED

- DRAFT: being written; at most one per committee (a retried "revise" cannot make two).
- ACTIVE: the committee's plan in force, shared with the unit responsible for its locality;
  at most one per committee. Activating needs at least one threat.
- SUPERSEDED: replaced by a newer version; kept readable, never edited.

Measures "by the mission" are the committee's requests to the mission: once the plan is
active they are addressed to the responsible unit, which records its answer (accepted,
declined with a reason, done). Each answer is also kept as an immutable PlanRequestAnswer row.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kiungo.alerts.taxonomy import Threat
from kiungo.forces.models import Unit
from kiungo.geography.models import Area
from kiungo.missions.models import ArmedActor, Mission
from kiungo.network.models import Contact
from kiungo.protection.risk import RANK, risk_level


def shipped_languages():
    return settings.LANGUAGES


class Sex(models.TextChoices):
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")


class Committee(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")  # meets and keeps a plan
        DORMANT = "dormant", _("Dormant")  # has not met for a long time
        DISSOLVED = "dissolved", _("Dissolved")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="committees")
    locality = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="committees", verbose_name=_("locality")
    )
    name = models.CharField(_("name"), max_length=150)
    language = models.CharField(
        _("working language"),
        max_length=8,
        choices=shipped_languages,
        default="fr",
        help_text=_("The language of the committee's copies of its plan (PDF, DOCX)."),
    )
    created_on = models.DateField(_("created on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )

    class Meta:
        ordering = ["mission", "locality__pcode", "name"]
        verbose_name = _("protection committee")
        verbose_name_plural = _("protection committees")
        constraints = [
            models.UniqueConstraint(
                fields=["locality", "name"],
                name="committee_unique_name_per_locality",
                violation_error_message=_("This locality already has a committee of that name."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.locality.name})"

    def clean(self):
        if not self.locality_id:
            return
        if self.mission_id and self.locality.mission_id != self.mission_id:
            raise ValidationError({"locality": _("The locality belongs to another mission.")})
        if self.locality.level != Area.Level.LOCALITY:
            raise ValidationError({"locality": _("A committee belongs to a locality (a village).")})

    def women_share(self) -> float | None:
        """The share of women among the active members (None without members)."""
        counts = self.members.filter(active=True).aggregate(
            total=models.Count("pk"), women=models.Count("pk", filter=Q(sex=Sex.FEMALE))
        )
        return counts["women"] / counts["total"] if counts["total"] else None

    def active_plan(self):
        return self.plans.filter(status=ProtectionPlan.Status.ACTIVE).first()


class CommitteeMember(models.Model):
    """A seat on the committee: no name, on purpose (see the module's docstring)."""

    class Position(models.TextChoices):
        PRESIDENT = "president", _("President")
        VICE_PRESIDENT = "vice_president", _("Vice-president")
        SECRETARY = "secretary", _("Secretary")
        TREASURER = "treasurer", _("Treasurer")
        MEMBER = "member", _("Member")

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="members")
    position = models.CharField(
        _("position"), max_length=20, choices=Position.choices, default=Position.MEMBER
    )
    category = models.CharField(_("category"), max_length=30, choices=Contact.Category.choices)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["committee", "position", "category", "pk"]
        verbose_name = _("committee member")
        verbose_name_plural = _("committee members")

    def __str__(self):
        return f"{self.get_position_display()} ({self.get_category_display()})"


class AttendanceBySex(models.Model):
    women = models.PositiveSmallIntegerField(_("women"), default=0)
    men = models.PositiveSmallIntegerField(_("men"), default=0)

    class Meta:
        abstract = True

    @property
    def total(self) -> int:
        return self.women + self.men


class CommitteeMeeting(AttendanceBySex):
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="meetings")
    held_on = models.DateField(_("date"))
    topics = models.TextField(_("topics"))
    decisions = models.TextField(_("decisions"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["committee", "-held_on", "-pk"]
        verbose_name = _("committee meeting")
        verbose_name_plural = _("committee meetings")
        constraints = [
            models.CheckConstraint(
                condition=Q(women__gt=0) | Q(men__gt=0),
                name="meeting_someone_attended",
                violation_error_message=_("Give the number of women and men who attended."),
            ),
        ]

    def __str__(self):
        return f"{self.committee} {self.held_on}"


class CommitteeTraining(AttendanceBySex):
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="trainings")
    held_on = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=200)
    facilitator = models.CharField(_("facilitator"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["committee", "-held_on", "-pk"]
        verbose_name = _("committee training")
        verbose_name_plural = _("committee trainings")
        constraints = [
            models.CheckConstraint(
                condition=Q(women__gt=0) | Q(men__gt=0),
                name="training_someone_attended",
                violation_error_message=_("Give the number of women and men trained."),
            ),
        ]

    def __str__(self):
        return f"{self.committee} {self.held_on} {self.topic}"


class ProtectionPlan(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")  # being written
        ACTIVE = "active", _("Active")  # in force, shared with the responsible unit
        SUPERSEDED = "superseded", _("Superseded")  # replaced by a newer version

    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="plans")
    version = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    vulnerabilities = models.TextField(_("vulnerabilities"), blank=True)
    capacities = models.TextField(_("capacities"), blank=True)
    review_on = models.DateField(_("review date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)
    # The unit responsible for the committee's locality when the plan was shared with it.
    shared_with = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="protection_plans",
        verbose_name=_("shared with"),
    )
    shared_at = models.DateTimeField(_("shared"), null=True, blank=True)

    class Meta:
        ordering = ["committee", "-version"]
        verbose_name = _("community protection plan")
        verbose_name_plural = _("community protection plans")
        constraints = [
            models.UniqueConstraint(fields=["committee", "version"], name="plan_unique_version"),
            models.UniqueConstraint(
                fields=["committee"],
                condition=Q(status="active"),
                name="plan_one_active_per_committee",
                violation_error_message=_("This committee already has an active plan."),
            ),
            models.UniqueConstraint(
                fields=["committee"],
                condition=Q(status="draft"),
                name="plan_one_draft_per_committee",
                violation_error_message=_("This committee already has a draft plan."),
            ),
        ]
        indexes = [models.Index(fields=["status", "review_on"])]

    def __str__(self):
        return f"{self.committee} v{self.version}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    def is_past_review(self, today) -> bool:
        return self.status == self.Status.ACTIVE and self.review_on < today


class PlanThreat(models.Model):
    plan = models.ForeignKey(ProtectionPlan, on_delete=models.CASCADE, related_name="threats")
    threat = models.CharField(_("type of threat"), max_length=20, choices=Threat.choices)
    description = models.TextField(_("description"))
    perpetrators = models.ManyToManyField(
        ArmedActor, blank=True, related_name="+", verbose_name=_("alleged perpetrators")
    )
    places = models.ManyToManyField(Area, blank=True, related_name="+", verbose_name=_("places"))
    places_text = models.CharField(
        _("other places"),
        max_length=300,
        blank=True,
        help_text=_("Fields, roads, markets… not in the list of areas."),
    )
    timing = models.CharField(
        _("times or seasons"),
        max_length=200,
        blank=True,
        help_text=_("e.g. market days, harvest season, at night."),
    )
    likelihood = models.PositiveSmallIntegerField(_("likelihood (1-5)"))
    impact = models.PositiveSmallIntegerField(_("impact (1-5)"))

    class Meta:
        ordering = ["plan", "pk"]
        verbose_name = _("threat")
        verbose_name_plural = _("threats")
        constraints = [
            models.CheckConstraint(
                condition=Q(likelihood__gte=1, likelihood__lte=5, impact__gte=1, impact__lte=5),
                name="planthreat_scales",
                violation_error_message=_("Likelihood and impact go from 1 to 5."),
            ),
        ]

    def __str__(self):
        return self.get_threat_display()

    @property
    def risk(self):
        return risk_level(self.likelihood, self.impact)

    @property
    def risk_rank(self) -> int:
        return RANK[self.risk]


class MitigationMeasure(models.Model):
    class By(models.TextChoices):
        COMMUNITY = "community", _("By the community")
        AUTHORITIES = "authorities", _("By local authorities")
        MISSION = "mission", _("Request to the mission")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        UNDER_WAY = "under_way", _("Under way")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    class Answer(models.TextChoices):
        """The unit's answer to a request to the mission."""

        PENDING = "pending", _("Awaiting the unit's answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        DONE = "done", _("Done")

    plan = models.ForeignKey(ProtectionPlan, on_delete=models.CASCADE, related_name="measures")
    by = models.CharField(_("by"), max_length=12, choices=By.choices)
    description = models.TextField(_("description"))
    responsible = models.CharField(_("who is responsible"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    due_on = models.DateField(_("due date"), null=True, blank=True)
    # Requests to the mission only: where and since when they are addressed, and the answer.
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plan_requests",
        verbose_name=_("addressed to"),
    )
    requested_at = models.DateTimeField(_("requested since"), null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=10, choices=Answer.choices, blank=True)
    answer_text = models.TextField(_("answer details"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "by", "pk"]
        verbose_name = _("mitigation measure")
        verbose_name_plural = _("mitigation measures")
        constraints = [
            models.CheckConstraint(
                condition=Q(by="mission") | (Q(unit__isnull=True) & Q(answer="")),
                name="measure_only_requests_are_addressed",
            ),
            models.CheckConstraint(
                condition=~Q(answer="declined") | ~Q(answer_text=""),
                name="measure_declined_has_reason",
                violation_error_message=_("A declined request needs a reason."),
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(answered_at__gte=F("requested_at")),
                name="measure_answered_after_request",
            ),
        ]

    def __str__(self):
        return self.description[:60]

    @property
    def is_request(self) -> bool:
        return self.by == self.By.MISSION


class PlanRequestAnswer(models.Model):
    """One answer a unit gave to a request: the immutable trail behind the measure's answer."""

    measure = models.ForeignKey(MitigationMeasure, on_delete=models.CASCADE, related_name="trail")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(_("answer"), max_length=10, choices=MitigationMeasure.Answer.choices)
    text = models.TextField(_("answer details"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("when"))

    class Meta:
        ordering = ["measure", "at", "pk"]
        verbose_name = _("answer to a plan request")
        verbose_name_plural = _("answers to plan requests")

    def __str__(self):
        return f"{self.measure_id} {self.answer}"


class FieldVisit(models.Model):
    class Kind(models.TextChoices):
        JOINT_PROTECTION_TEAM = "jpt", _("Joint protection team")
        JOINT_ASSESSMENT_MISSION = "jam", _("Joint assessment mission")
        OTHER = "other", _("Other field visit")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="field_visits")
    kind = models.CharField(_("kind"), max_length=5, choices=Kind.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    team = models.TextField(
        _("team"), help_text=_("Sections and partners taking part (no community names).")
    )
    team_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("Kiungo users")
    )
    places = models.ManyToManyField(Area, related_name="+", verbose_name=_("places"))
    findings = models.TextField(_("findings"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mission", "-starts_on", "-pk"]
        verbose_name = _("field visit")
        verbose_name_plural = _("field visits")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="fieldvisit_ends_after_start",
                violation_error_message=_("A visit cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.starts_on}"


class FollowUpAction(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UNDER_WAY = "under_way", _("Under way")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    OPEN_STATUSES = (Status.OPEN, Status.UNDER_WAY)

    visit = models.ForeignKey(FieldVisit, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField(_("action"))
    owner_text = models.CharField(_("owner"), max_length=200, blank=True)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner (Kiungo user)"),
    )
    due_on = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="open")

    class Meta:
        ordering = ["visit", "due_on", "pk"]
        verbose_name = _("follow-up action")
        verbose_name_plural = _("follow-up actions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(owner_text="") | Q(owner_user__isnull=False),
                name="followup_has_owner",
                violation_error_message=_("Name an owner, or choose a Kiungo user."),
            ),
        ]

    def __str__(self):
        return self.description[:60]

    @property
    def owner(self) -> str:
        if self.owner_user_id:
            return self.owner_user.get_full_name() or self.owner_user.get_username()
        return self.owner_text

    def is_overdue(self, today) -> bool:
        return self.status in self.OPEN_STATUSES and self.due_on < today
