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
