"""The administrative hierarchy of a mission's country, with OCHA-style P-codes.

A child's P-code always extends its parent's (CD61 → CD6101 → CD610101 …), so the P-code is
also the area's path: the ancestors of an area are the areas whose P-code is a prefix of its
own. Lookups "who is responsible for this place" and "is this place in my scope" are then a
single indexed query, and a cycle in the hierarchy cannot be stored.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kiungo.lib.text import fold
from kiungo.lib.validators import validate_time_zone
from kiungo.missions.models import Mission

PCODE_REGEX = r"^[A-Z]{2}[0-9A-Z]{1,18}$"


class AreaQuerySet(models.QuerySet):
    def by_pcode(self, pcode: str) -> "Area":
        return self.get(pcode=pcode.strip().upper())

    def named(self, mission: Mission, text: str):
        """Areas of the mission whose name or an alias matches `text` (case/accent-blind)."""
        return self.filter(mission=mission, names__folded=fold(text)).distinct()

    def within(self, area: "Area"):
        """The area itself and every area below it."""
        return self.filter(mission_id=area.mission_id, pcode__startswith=area.pcode)


class Area(models.Model):
    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province / state / region")
        TERRITORY = 2, _("Territory / county / prefecture")
        SECTOR = 3, _("Sector / chiefdom / payam")
        GROUPEMENT = 4, _("Groupement / boma")
        LOCALITY = 5, _("Locality / village")

    class Source(models.TextChoices):
        ISO_3166_2 = "iso3166", _("ISO 3166-2 subdivision")
        GEONAMES = "geonames", _("GeoNames populated place")
        GENERATED = "generated", _("Generated (demo data, not a real area)")
        SURVEY = "survey", _("Entered by the mission")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="areas")
    pcode = models.CharField(_("P-code"), max_length=20, unique=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Leave empty to use the parent's (or the mission's) time zone."),
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    boundary = models.JSONField(
        _("boundary (GeoJSON)"),
        null=True,
        blank=True,
        help_text=_("A GeoJSON Polygon or MultiPolygon geometry, longitude first."),
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.SURVEY
    )

    objects = AreaQuerySet.as_manager()

    class Meta:
        ordering = ["pcode"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        indexes = [models.Index(fields=["mission", "level", "latitude", "longitude"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(pcode__regex=PCODE_REGEX),
                name="area_pcode_format",
                violation_error_message=_(
                    "A P-code is the country's two capital letters followed by digits or "
                    "capital letters, e.g. CD6101."
                ),
            ),
            models.CheckConstraint(
                condition=(Q(level=1) & Q(parent__isnull=True))
                | (Q(level__gt=1) & Q(parent__isnull=False)),
                name="area_parent_matches_level",
                violation_error_message=_("A province has no parent; every other level needs one."),
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=5), name="area_level_range"
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="area_point_valid",
                violation_error_message=_("Give both latitude and longitude, within range."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.pcode})"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # The official name is matched like any alias (bulk loaders add their own names).
        AreaName.objects.get_or_create(area=self, name=self.name, defaults={"kind": "official"})

    def clean(self):
        errors = {}
        self.pcode = (self.pcode or "").strip().upper()
        if self.mission_id and not self.pcode.startswith(self.mission.country):
            errors["pcode"] = _("The P-code must start with the mission's country code %(c)s.") % {
                "c": self.mission.country
            }
        if self.parent_id:
            parent = self.parent
            if parent.pk == self.pk or (self.pk and parent.pcode.startswith(self.pcode)):
                errors["parent"] = _("An area cannot be inside itself or one of its own parts.")
            elif parent.mission_id != self.mission_id:
                errors["parent"] = _("The parent area belongs to another mission.")
            elif parent.level >= (self.level or 0):
                errors["parent"] = _("The parent must be at a higher level than the area.")
            elif not self.pcode.startswith(parent.pcode) or self.pcode == parent.pcode:
                errors["pcode"] = _("The P-code must extend the parent's P-code %(parent)s.") % {
                    "parent": parent.pcode
                }
        if self.pk and self.pcode:
            old = Area.objects.filter(pk=self.pk).values_list("pcode", flat=True).first()
            if old and old != self.pcode and Area.objects.filter(parent_id=self.pk).exists():
                errors["pcode"] = _("The P-code of an area with sub-areas cannot change.")
        if (self.latitude is None) != (self.longitude is None):
            errors["latitude"] = _("Give both latitude and longitude, or neither.")
        if self.boundary is not None:
            problem = geojson_polygon_problem(self.boundary)
            if problem:
                errors["boundary"] = problem
        if errors:
            raise ValidationError(errors)

    def ancestor_pcodes(self) -> list[str]:
        """P-codes that may belong to this area's ancestors, nearest first (cheap, no query)."""
        return [self.pcode[:end] for end in range(len(self.pcode) - 1, 2, -1)]

    def ancestors(self):
        """This area's ancestors, from the nearest up to the province."""
        return Area.objects.filter(
            mission_id=self.mission_id, pcode__in=self.ancestor_pcodes()
        ).order_by("-level")

    def effective_time_zone(self) -> str:
        if self.time_zone:
            return self.time_zone
        nearest = self.ancestors().exclude(time_zone="").values_list("time_zone", flat=True)
        return nearest.first() or self.mission.time_zone

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class AreaName(models.Model):
    """A name or alias of an area, in any language or script, folded for matching."""

    class Kind(models.TextChoices):
        OFFICIAL = "official", _("Official name")
        ALIAS = "alias", _("Alias / local spelling")
        EXONYM = "exonym", _("Exonym (name in another language)")

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(_("language"), max_length=8, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ALIAS)
    folded = models.CharField(max_length=200, db_index=True, editable=False)

    class Meta:
        ordering = ["area", "kind", "name"]
        verbose_name = _("area name")
        verbose_name_plural = _("area names")
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="areaname_unique_per_area"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.folded = fold(self.name)
        super().save(*args, **kwargs)


def geojson_polygon_problem(geometry) -> str | None:
    """Why `geometry` is not a usable GeoJSON Polygon/MultiPolygon, or None if it is."""
    from shapely.geometry import shape

    if not isinstance(geometry, dict) or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
        return _("The boundary must be a GeoJSON Polygon or MultiPolygon.")
    try:
        polygon = shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return _("The boundary's coordinates cannot be read.")
    if polygon.is_empty or not polygon.is_valid:
        return _("The boundary is empty or crosses itself.")
    min_x, min_y, max_x, max_y = polygon.bounds
    if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
        return _("The boundary lies outside valid longitudes and latitudes.")
    return None
