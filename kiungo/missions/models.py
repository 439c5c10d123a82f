"""A peacekeeping mission and its alert-level policy (deadlines and escalation chain)."""

import itertools
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from kiungo.lib.validators import validate_country, validate_language_list, validate_time_zone


def default_languages():
    return ["fr", "en"]


class Mission(models.Model):
    code = models.SlugField(_("code"), max_length=20, unique=True, help_text=_("e.g. MONUSCO"))
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, validators=[validate_country])
    time_zone = models.CharField(_("time zone"), max_length=64, validators=[validate_time_zone])
    languages = models.JSONField(
        _("working languages"),
        default=default_languages,
        validators=[validate_language_list],
        help_text=_("ISO 639-1 codes, the first one being the main language, e.g. fr, en, sw."),
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("mission")
        verbose_name_plural = _("missions")

    def __str__(self):
        return self.code

    @property
    def is_active(self) -> bool:
        return self.closed_on is None

    def alert_levels(self):
        return self.levels.order_by("rank")


class AlertLevel(models.Model):
    """One level of a mission's alert policy: how fast a unit must acknowledge and respond.

    Rank 1 is the most severe. A more severe level never allows more time than a less
    severe one (checked across levels by `validate_alert_policy`).
    """

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="levels")
    code = models.SlugField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=60)
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("1 is the most severe."))
    acknowledge_within = models.DurationField(_("acknowledge within"))
    respond_within = models.DurationField(_("decide a response within"))

    class Meta:
        ordering = ["mission", "rank"]
        verbose_name = _("alert level")
        verbose_name_plural = _("alert levels")
        constraints = [
            models.UniqueConstraint(fields=["mission", "code"], name="alertlevel_unique_code"),
            models.UniqueConstraint(fields=["mission", "rank"], name="alertlevel_unique_rank"),
            models.CheckConstraint(condition=Q(rank__gte=1), name="alertlevel_rank_positive"),
            models.CheckConstraint(
                condition=Q(acknowledge_within__gt=timedelta(0)),
                name="alertlevel_acknowledge_positive",
                violation_error_message=_("The deadline to acknowledge must be positive."),
            ),
            models.CheckConstraint(
                condition=Q(respond_within__gt=F("acknowledge_within")),
                name="alertlevel_respond_after_acknowledge",
                violation_error_message=_(
                    "The deadline to respond must be later than the deadline to acknowledge."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.mission.code} {self.name}"


class EscalationStep(models.Model):
    """Who is told, and when, after a level's deadline is missed.

    `after` counts from the missed deadline; steps are taken in position order.
    """

    class Target(models.TextChoices):
        BATTALION = "battalion", _("Battalion")
        SECTOR = "sector", _("Sector")
        EARLY_WARNING_CELL = "early_warning_cell", _("Early-warning cell / JOC")
        FORCE_HQ = "force_hq", _("Force headquarters")

    level = models.ForeignKey(AlertLevel, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    target = models.CharField(_("escalate to"), max_length=20, choices=Target.choices)
    after = models.DurationField(_("after the missed deadline"))

    class Meta:
        ordering = ["level", "position"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        constraints = [
            models.UniqueConstraint(fields=["level", "position"], name="escalation_unique_pos"),
            models.UniqueConstraint(fields=["level", "target"], name="escalation_unique_target"),
            models.CheckConstraint(
                condition=Q(after__gte=timedelta(0)),
                name="escalation_after_not_negative",
                violation_error_message=_("An escalation cannot happen before the deadline."),
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.get_target_display()}"


CHAIN_ORDER = [target for target, _label in EscalationStep.Target.choices]


def validate_alert_policy(levels: list[AlertLevel], steps: dict[int, list[EscalationStep]]):
    """Check a whole policy: ranks consecutive, deadlines ordered, steps going up the chain.

    `steps` maps a level's rank to its steps. Raises one ValidationError listing every problem.
    """
    errors = []
    ordered = sorted(levels, key=lambda level: level.rank)
    if [level.rank for level in ordered] != list(range(1, len(ordered) + 1)):
        errors.append(_("Ranks must run 1, 2, 3… without gaps (1 is the most severe)."))
    for level in ordered:
        if level.acknowledge_within is None or level.respond_within is None:
            continue
        if level.acknowledge_within <= timedelta(0):
            errors.append(
                _("%(level)s: the deadline to acknowledge must be positive.")
                % {"level": level.name}
            )
        if level.respond_within <= level.acknowledge_within:
            errors.append(
                _("%(level)s: the deadline to respond must be later than the one to acknowledge.")
                % {"level": level.name}
            )
    for more, less in itertools.pairwise(ordered):
        if None in (more.acknowledge_within, less.acknowledge_within):
            continue
        if (
            more.acknowledge_within > less.acknowledge_within
            or more.respond_within > less.respond_within
        ):
            errors.append(
                _("%(more)s is more severe than %(less)s, so its deadlines cannot be longer.")
                % {"more": more.name, "less": less.name}
            )
    for rank, level_steps in steps.items():
        ordered_steps = sorted(level_steps, key=lambda step: step.position)
        targets = [CHAIN_ORDER.index(step.target) for step in ordered_steps]
        delays = [step.after for step in ordered_steps]
        if targets != sorted(targets) or delays != sorted(delays):
            errors.append(
                _(
                    "Level %(rank)s: escalation steps must go up the chain, each no sooner than "
                    "the one before."
                )
                % {"rank": rank}
            )
    if errors:
        raise ValidationError(errors)


# Level names are data (a mission may rename them); the default ones are translated on screen.
DEFAULT_LEVEL_NAMES = (
    gettext_noop("Critical"),
    gettext_noop("High"),
    gettext_noop("Medium"),
    gettext_noop("Low"),
)

DEFAULT_POLICY = [
    # (code, name, acknowledge, respond, [(target, after)])
    (
        "critical",
        "Critical",
        timedelta(minutes=15),
        timedelta(hours=1),
        [
            ("battalion", timedelta(0)),
            ("sector", timedelta(minutes=15)),
            ("early_warning_cell", timedelta(minutes=15)),
            ("force_hq", timedelta(minutes=45)),
        ],
    ),
    (
        "high",
        "High",
        timedelta(hours=1),
        timedelta(hours=4),
        [
            ("battalion", timedelta(0)),
            ("sector", timedelta(hours=1)),
            ("early_warning_cell", timedelta(hours=1)),
            ("force_hq", timedelta(hours=3)),
        ],
    ),
    (
        "medium",
        "Medium",
        timedelta(hours=6),
        timedelta(hours=24),
        [("battalion", timedelta(0)), ("early_warning_cell", timedelta(hours=6))],
    ),
    (
        "low",
        "Low",
        timedelta(hours=24),
        timedelta(hours=72),
        [("early_warning_cell", timedelta(0))],
    ),
]


def install_default_policy(mission: Mission) -> None:
    """Give a mission the default critical / high / medium / low policy if it has none."""
    if mission.levels.exists():
        return
    for rank, (code, name, acknowledge, respond, chain) in enumerate(DEFAULT_POLICY, start=1):
        level = AlertLevel.objects.create(
            mission=mission,
            code=code,
            name=name,
            rank=rank,
            acknowledge_within=acknowledge,
            respond_within=respond,
        )
        for position, (target, after) in enumerate(chain, start=1):
            EscalationStep.objects.create(
                level=level, position=position, target=target, after=after
            )


class ArmedActor(models.Model):
    """An armed group or force the mission names in reports and plans (alleged perpetrators)."""

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="armed_actors")
    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["mission", "name"]
        verbose_name = _("armed actor")
        verbose_name_plural = _("armed actors")
        constraints = [
            models.UniqueConstraint(fields=["mission", "name"], name="armedactor_unique_name"),
        ]

    def __str__(self):
        return self.short_name or self.name
