"""The threat taxonomy, aligned with ACLED event and sub-event types."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Threat(models.TextChoices):
    ATTACK = "attack", _("Attack on civilians")
    CLASH = "clash", _("Armed clash")
    ABDUCTION = "abduction", _("Abduction")
    SEXUAL_VIOLENCE = "sexual_violence", _("Sexual violence")
    EXPLOSION = "explosion", _("Explosion / remote violence")
    LOOTING = "looting", _("Looting and property destruction")
    DISPLACEMENT = "displacement", _("Displacement")
    THREAT = "threat", _("Threat or rumour")
    OTHER = "other", _("Other")


# (ACLED event type, ACLED sub-event type) for exports and analysis.
ACLED = {
    Threat.ATTACK: ("Violence against civilians", "Attack"),
    Threat.CLASH: ("Battles", "Armed clash"),
    Threat.ABDUCTION: ("Violence against civilians", "Abduction/forced disappearance"),
    Threat.SEXUAL_VIOLENCE: ("Violence against civilians", "Sexual violence"),
    Threat.EXPLOSION: ("Explosions/Remote violence", "Remote explosive/landmine/IED"),
    Threat.LOOTING: ("Strategic developments", "Looting/property destruction"),
    Threat.DISPLACEMENT: ("Strategic developments", "Other"),
    Threat.THREAT: ("Strategic developments", "Other"),
    Threat.OTHER: ("Strategic developments", "Other"),
}

# The level an alert starts at when nothing in it says otherwise (a person may change it).
DEFAULT_LEVEL = {
    Threat.ATTACK: "high",
    Threat.CLASH: "high",
    Threat.ABDUCTION: "high",
    Threat.SEXUAL_VIOLENCE: "high",
    Threat.EXPLOSION: "high",
    Threat.LOOTING: "medium",
    Threat.DISPLACEMENT: "medium",
    Threat.THREAT: "medium",
    Threat.OTHER: "medium",
}
