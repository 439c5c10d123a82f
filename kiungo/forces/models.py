"""The military chain, the bases where units and CLAs are deployed, and who answers where."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kiungo.geography.models import Area
from kiungo.lib.phones import validate_e164
from kiungo.lib.validators import country_name, validate_country
from kiungo.missions.models import Mission


class Unit(models.Model):
    """A node of the chain: force HQ > sector > battalion > company.

    A parent is always of a higher kind than its child, so the chain cannot loop.
    """

    class Kind(models.IntegerChoices):
        FORCE_HQ = 1, _("Force headquarters")
        SECTOR = 2, _("Sector")
        BATTALION = 3, _("Battalion")
        COMPANY = 4, _("Company")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="units")
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=200)
    kind = models.PositiveSmallIntegerField(_("kind"), choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    contingent = models.CharField(
        _("contingent (troop-contributing country)"),
        max_length=2,
        blank=True,
        validators=[validate_country],
        help_text=_("ISO 3166 code; empty for multinational HQ."),
    )

    class Meta:
        ordering = ["mission", "kind", "code"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.UniqueConstraint(fields=["mission", "code"], name="unit_unique_code"),
            models.CheckConstraint(
                condition=(Q(kind=1) & Q(parent__isnull=True))
                | (Q(kind__gt=1) & Q(parent__isnull=False)),
                name="unit_parent_matches_kind",
                violation_error_message=_("Only a force headquarters has no parent unit."),
            ),
            models.CheckConstraint(condition=Q(kind__gte=1, kind__lte=4), name="unit_kind_range"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.parent_id:
            parent = self.parent
            if parent.pk == self.pk or self.pk in {unit.pk for unit in parent.chain()}:
                raise ValidationError({"parent": _("A unit cannot report to itself.")})
            if parent.mission_id != self.mission_id:
                raise ValidationError({"parent": _("The parent unit belongs to another mission.")})
            if self.kind is not None and parent.kind >= self.kind:
                raise ValidationError(
                    {
                        "parent": _(
                            "A unit reports to a unit of a higher kind (company → "
                            "battalion → sector → force headquarters)."
                        )
                    }
                )

    @property
    def contingent_name(self) -> str:
        return country_name(self.contingent)

    def chain(self) -> list["Unit"]:
        """This unit and its superiors, up to force HQ (at most four, bounded by kind)."""
        units, unit = [], self
        while unit is not None and len(units) < len(self.Kind):
            units.append(unit)
            unit = unit.parent
        return units

    def superior(self, kind: int) -> "Unit | None":
        return next((unit for unit in self.chain() if unit.kind == kind), None)

    def subordinate_ids(self) -> set[int]:
        """Ids of this unit and every unit below it."""
        ids, frontier = {self.pk}, [self.pk]
        while frontier:
            frontier = list(
                Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.update(frontier)
        return ids


class DutyPhone(models.Model):
    """A unit's duty phone: it receives alerts and may answer them with SMS reply codes."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="duty_phones")
    number = models.CharField(_("number (E.164)"), max_length=16, validators=[validate_e164])
    label = models.CharField(_("label"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["unit", "number"]
        verbose_name = _("duty phone")
        verbose_name_plural = _("duty phones")
        constraints = [
            # A reply code from a number must identify exactly one unit.
            models.UniqueConstraint(fields=["number"], name="dutyphone_unique_number"),
            models.CheckConstraint(
                condition=Q(number__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="dutyphone_number_e164",
                violation_error_message=_("Duty phone numbers are stored in E.164 form."),
            ),
        ]

    def __str__(self):
        return self.number


class Base(models.Model):
    class Kind(models.TextChoices):
        COB = "COB", _("Company operating base")
        TOB = "TOB", _("Temporary operating base")
        SOB = "SOB", _("Standing operating base")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="bases")
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices)
    locality = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="bases_here", verbose_name=_("locality")
    )
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="bases", verbose_name=_("unit stationed")
    )
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        ordering = ["mission", "name"]
        verbose_name = _("base")
        verbose_name_plural = _("bases")
        constraints = [
            models.UniqueConstraint(fields=["mission", "code"], name="base_unique_code"),
            models.CheckConstraint(
                condition=Q(
                    latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180
                ),
                name="base_point_valid",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True)
                | Q(opened_on__isnull=True)
                | Q(closed_on__gte=models.F("opened_on")),
                name="base_closed_after_opened",
                violation_error_message=_("A base cannot close before it opens."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.kind})"

    def clean(self):
        errors = {}
        if self.locality_id and self.locality.mission_id != self.mission_id:
            errors["locality"] = _("The locality belongs to another mission.")
        elif self.locality_id and self.locality.level != Area.Level.LOCALITY:
            errors["locality"] = _("A base stands in a locality (the lowest level of areas).")
        if self.unit_id and self.unit.mission_id != self.mission_id:
            errors["unit"] = _("The unit belongs to another mission.")
        if errors:
            raise ValidationError(errors)


class ResponsibilityArea(models.Model):
    """One area of a base's area of responsibility (AOR); its unit answers alerts there.

    No area may be held by two bases, nor overlap another base's AOR by nesting
    (checked in `clean`; the unique constraint guards the exact case at the database).
    """

    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="responsibility")
    area = models.OneToOneField(
        Area, on_delete=models.PROTECT, related_name="responsibility", verbose_name=_("area")
    )

    class Meta:
        ordering = ["base", "area__pcode"]
        verbose_name = _("area of responsibility")
        verbose_name_plural = _("areas of responsibility")

    def __str__(self):
        return f"{self.base.name}: {self.area}"

    def clean(self):
        if not (self.base_id and self.area_id):
            return
        if self.area.mission_id != self.base.mission_id:
            raise ValidationError({"area": _("The area belongs to another mission.")})
        overlapping = (
            ResponsibilityArea.objects.filter(area__mission_id=self.area.mission_id)
            .filter(
                Q(area__pcode__in=[*self.area.ancestor_pcodes(), self.area.pcode])
                | Q(area__pcode__startswith=self.area.pcode)
            )
            .exclude(pk=self.pk)
            .select_related("base", "area")
            .first()
        )
        if overlapping:
            if overlapping.base_id == self.base_id:
                message = _("%(area)s overlaps %(other)s, already in this base's AOR.")
            else:
                message = _(
                    "%(area)s overlaps %(other)s, in the area of responsibility of %(base)s."
                )
            raise ValidationError(
                {
                    "area": message
                    % {"area": self.area, "other": overlapping.area, "base": overlapping.base.name}
                }
            )
