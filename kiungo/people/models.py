"""Users, their roles with a geographic scope, and the CLA's profile and deployments."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kiungo.forces.models import Base, Unit
from kiungo.geography.models import Area
from kiungo.lib.crypto import EncryptedTextField, keyed_hash
from kiungo.lib.validators import validate_language_list
from kiungo.missions.models import Mission


class Role(models.TextChoices):
    CLA = "cla", _("Community Liaison Assistant")
    CLA_MANAGER = "cla_manager", _("CLA manager")
    EARLY_WARNING_OFFICER = "early_warning", _("Early-warning officer")
    UNIT_DUTY_OFFICER = "duty_officer", _("Unit duty officer")
    ANALYST = "analyst", _("Analyst")
    LEADERSHIP = "leadership", _("Mission leadership")
    SECURITY_OFFICER = "security_officer", _("Security officer")  # told of a CLA's SOS
    ADMINISTRATOR = "administrator", _("Administrator")


class User(AbstractUser):
    def display_time_zone(self) -> str | None:
        """The time zone pages are shown in: the user's first mission's (cached per request)."""
        if not hasattr(self, "_display_time_zone"):
            assignment = self.role_assignments.select_related("mission").first()
            self._display_time_zone = assignment.mission.time_zone if assignment else None
        return self._display_time_zone

    def roles(self) -> set[str]:
        return {assignment.role for assignment in self.role_assignments.all()}


class RoleAssignment(models.Model):
    """A role a user holds in a mission, over a geographic scope.

    Scope: the whole mission; a set of areas (and everything below them); or the area of
    responsibility of a unit (and of the units under it).
    """

    class Scope(models.TextChoices):
        MISSION = "mission", _("The whole mission")
        AREAS = "areas", _("Chosen areas")
        UNIT = "unit", _("A unit's area of responsibility")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="assignments")
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    areas = models.ManyToManyField(Area, blank=True, related_name="+", verbose_name=_("areas"))
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit"),
    )

    class Meta:
        ordering = ["user", "mission", "role"]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "mission"], name="roleassignment_unique"
            ),
            models.CheckConstraint(
                condition=(Q(scope="unit") & Q(unit__isnull=False))
                | (~Q(scope="unit") & Q(unit__isnull=True)),
                name="roleassignment_unit_iff_unit_scope",
                violation_error_message=_("Choose a unit exactly when the scope is a unit's AOR."),
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} ({self.mission})"

    def clean(self):
        if self.unit_id and self.mission_id and self.unit.mission_id != self.mission_id:
            raise ValidationError({"unit": _("The unit belongs to another mission.")})


class CLAProfileQuerySet(models.QuerySet):
    def with_number(self, e164: str):
        return self.filter(phone_hash=keyed_hash(e164)) if e164 else self.none()


class CLAProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="cla_profile")
    staff_id = models.CharField(_("staff id"), max_length=20, unique=True)
    # The registered phone: SMS reports and check-ins are accepted from it alone. Encrypted
    # like a contact's number (a CLA is as exposed as a source); found by its keyed hash.
    phone = EncryptedTextField(_("registered phone"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    languages = models.JSONField(
        _("languages"),
        default=list,
        validators=[validate_language_list],
        help_text=_("ISO 639-1 codes of the languages the CLA speaks."),
    )
    base = models.ForeignKey(
        Base,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clas",
        verbose_name=_("current base"),
    )
    supervisor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supervised_clas",
        verbose_name=_("supervisor"),
    )

    objects = CLAProfileQuerySet.as_manager()

    class Meta:
        ordering = ["staff_id"]
        verbose_name = _("CLA profile")
        verbose_name_plural = _("CLA profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["phone_hash"],
                condition=~Q(phone_hash=""),
                name="claprofile_unique_phone",
                violation_error_message=_("Another CLA already has this phone number."),
            ),
        ]

    def __str__(self):
        return self.staff_id

    def save(self, *args, **kwargs):
        self.phone_hash = keyed_hash(self.phone) if self.phone else ""
        super().save(*args, **kwargs)


class Deployment(models.Model):
    """A period a CLA spent (or spends) at a base: the rotation history."""

    cla = models.ForeignKey(CLAProfile, on_delete=models.CASCADE, related_name="deployments")
    base = models.ForeignKey(Base, on_delete=models.PROTECT, related_name="deployments")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["cla", "-starts_on"]
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="deployment_ends_after_start",
                violation_error_message=_("A deployment cannot end before it starts."),
            ),
            models.UniqueConstraint(
                fields=["cla"],
                condition=Q(ends_on__isnull=True),
                name="deployment_one_open_per_cla",
                violation_error_message=_("This CLA already has an open deployment."),
            ),
        ]

    def __str__(self):
        return f"{self.cla} @ {self.base.name} from {self.starts_on}"

    def clean(self):
        if not (self.cla_id and self.starts_on):
            return
        others = Deployment.objects.filter(cla_id=self.cla_id).exclude(pk=self.pk)
        overlaps = others.filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=self.starts_on),
        )
        if self.ends_on:
            overlaps = overlaps.filter(starts_on__lte=self.ends_on)
        if overlaps.exists():
            raise ValidationError(_("This period overlaps another deployment of the same CLA."))


class Rotation(models.Model):
    """A CLA's planned move to another base.

    PLANNED > DONE (the open deployment is closed and one at the new base opened, at once)
            > CANCELLED
    """

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")  # decided, not yet carried out
        DONE = "done", _("Done")  # the CLA now serves at the new base
        CANCELLED = "cancelled", _("Cancelled")  # will not happen

    cla = models.ForeignKey(CLAProfile, on_delete=models.CASCADE, related_name="rotations")
    to_base = models.ForeignKey(
        Base, on_delete=models.PROTECT, related_name="+", verbose_name=_("to base")
    )
    planned_on = models.DateField(_("planned date"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    done_on = models.DateField(_("carried out on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["planned_on", "pk"]
        verbose_name = _("rotation")
        verbose_name_plural = _("rotations")
        constraints = [
            models.UniqueConstraint(
                fields=["cla"],
                condition=Q(status="planned"),
                name="rotation_one_planned_per_cla",
                violation_error_message=_("This CLA already has a planned rotation."),
            ),
            models.CheckConstraint(
                condition=Q(status="done", done_on__isnull=False)
                | (~Q(status="done") & Q(done_on__isnull=True)),
                name="rotation_done_on_iff_done",
            ),
        ]

    def __str__(self):
        return f"{self.cla} → {self.to_base.name} ({self.planned_on})"


class Absence(models.Model):
    """A period a CLA is away from their base (leave, sickness, training, mission travel):
    not expected to report or check in, and not counted as present."""

    class Kind(models.TextChoices):
        LEAVE = "leave", _("Leave")
        SICK = "sick", _("Sick leave")
        TRAINING = "training", _("Training")
        MISSION_TRAVEL = "travel", _("Mission travel")
        OTHER = "other", _("Other")

    cla = models.ForeignKey(CLAProfile, on_delete=models.CASCADE, related_name="absences")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), help_text=_("The last day away."))
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["cla", "-starts_on"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        indexes = [models.Index(fields=["starts_on", "ends_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="absence_ends_after_start",
                violation_error_message=_("An absence cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.cla} {self.kind} {self.starts_on}–{self.ends_on}"

    def clean(self):
        if not (self.cla_id and self.starts_on and self.ends_on):
            return
        if self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("An absence cannot end before it starts.")})
        clash = (
            Absence.objects.filter(
                cla_id=self.cla_id, starts_on__lte=self.ends_on, ends_on__gte=self.starts_on
            )
            .exclude(pk=self.pk)
            .order_by("starts_on")
            .first()
        )
        if clash is not None:
            raise ValidationError(
                _(
                    "This period overlaps the CLA's %(kind)s from %(start)s to %(end)s: "
                    "change the dates, or edit that absence."
                )
                % {
                    "kind": clash.get_kind_display().lower(),
                    "start": clash.starts_on.isoformat(),
                    "end": clash.ends_on.isoformat(),
                }
            )
