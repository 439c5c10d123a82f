"""Community key contacts: protected sources of alerts.

Names and numbers are encrypted at rest; a number is found through its keyed hash; screens show
the pseudonym code. (The community-networks work extends this with consent records, assets and
network health.)
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kiungo.geography.models import Area
from kiungo.lib.crypto import EncryptedTextField, keyed_hash
from kiungo.missions.models import Mission


class ContactQuerySet(models.QuerySet):
    def with_number(self, mission: Mission, e164: str):
        return self.filter(mission=mission, phone_hash=keyed_hash(e164))


class Contact(models.Model):
    class Category(models.TextChoices):
        TRADITIONAL_AUTHORITY = "traditional_authority", _("Traditional authority")
        RELIGIOUS_LEADER = "religious_leader", _("Religious leader")
        WOMENS_REPRESENTATIVE = "womens_representative", _("Women's representative")
        YOUTH = "youth", _("Youth representative")
        TEACHER = "teacher", _("Teacher")
        HEALTH_WORKER = "health_worker", _("Health worker")
        CIVIL_SOCIETY = "civil_society", _("Civil society")
        LOCAL_OFFICIAL = "local_official", _("Local official")
        OTHER = "other", _("Other")

    class Sex(models.TextChoices):
        FEMALE = "f", _("Female")
        MALE = "m", _("Male")
        UNKNOWN = "", _("Not recorded")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="contacts")
    code = models.CharField(_("pseudonym"), max_length=20, help_text=_("e.g. NK-BEN-017"))
    name = EncryptedTextField(_("name"), blank=True)
    phone = EncryptedTextField(_("phone number"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    home_locality = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("home locality"),
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    category = models.CharField(
        _("category"), max_length=30, choices=Category.choices, default=Category.OTHER
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    managed_by = models.ForeignKey(
        "people.CLAProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("managed by (CLA)"),
    )
    # What the contact agreed to (the consent records of the community-networks work keep who
    # recorded it and when): being contacted by the mission (network tests, broadcasts), and
    # receiving word of the response to their alerts. STOP / ARRET sets opted_out_at.
    consents_to_contact = models.BooleanField(_("agrees to be contacted"), default=False)
    opted_out_at = models.DateTimeField(_("opted out at"), null=True, blank=True)
    consents_to_feedback = models.BooleanField(
        _("agrees to receive word of the response"), default=False
    )
    active = models.BooleanField(_("active"), default=True)
    last_heard_at = models.DateTimeField(_("last heard from"), null=True, blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["mission", "code"]
        verbose_name = _("key contact")
        verbose_name_plural = _("key contacts")
        constraints = [
            models.UniqueConstraint(fields=["mission", "code"], name="contact_unique_code"),
            models.UniqueConstraint(
                fields=["mission", "phone_hash"],
                condition=~models.Q(phone_hash=""),
                name="contact_unique_phone",
                violation_error_message=_("Another contact already has this phone number."),
            ),
        ]

    def __str__(self):
        return self.code  # never the name: str() ends up in logs and admin lists

    def save(self, *args, **kwargs):
        self.phone_hash = keyed_hash(self.phone) if self.phone else ""
        super().save(*args, **kwargs)
