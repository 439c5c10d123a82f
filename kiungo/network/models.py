"""Community key contacts: protected sources of alerts, and the outreach that reaches them.

Names and numbers are encrypted at rest; a number is found through its keyed hash; screens show
the pseudonym code. Revealing an identity is a recorded act (SourceAccess). Consent is a history
(ConsentRecord); the contact's booleans mirror the latest record. Outreach: activities logged by
CLAs, and broadcast SMS from translated templates to consented contacts.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiungo.geography.models import Area
from kiungo.lib.crypto import EncryptedTextField, keyed_hash, keyed_hash_candidates
from kiungo.lib.validators import validate_language_list
from kiungo.missions.models import Mission


class ContactQuerySet(models.QuerySet):
    def with_number(self, mission: Mission, e164: str):
        """The contact holding `e164` as its main or a secondary number (found by keyed hash;
        during a hash-key rotation, by the previous key's hash too)."""
        if not e164:
            return self.none()
        hashes = keyed_hash_candidates(e164)
        # Two indexed lookups (main number, secondary numbers), so the intake never scans the
        # mission's contacts.
        main = Contact.objects.filter(mission=mission, phone_hash__in=hashes)
        main = main.exclude(phone_hash="").values("pk")  # the partial unique index's condition
        secondary = ContactPhone.objects.filter(mission=mission, number_hash__in=hashes)
        return self.filter(Q(pk__in=main) | Q(pk__in=secondary.values("contact_id")))

    def holding_numbers(self, mission: Mission, numbers) -> dict[str, "Contact"]:
        """The contact holding each of `numbers`, as `with_number(mission, n).first()` would
        find it, in two queries for them all (the worker files SMS by batches)."""
        by_hash = {
            digest: number
            for number in numbers
            if number
            for digest in keyed_hash_candidates(number)
        }
        if not by_hash:
            return {}
        secondary = dict(
            ContactPhone.objects.filter(mission=mission, number_hash__in=by_hash).values_list(
                "number_hash", "contact_id"
            )
        )
        found: dict[str, Contact] = {}
        holders = self.filter(mission=mission).filter(
            Q(phone_hash__in=[digest for digest in by_hash if digest])
            | Q(pk__in=set(secondary.values()))
        )
        for contact in holders:  # in the model's order: the first holder of a number wins
            numbers_held = {by_hash.get(contact.phone_hash)} | {
                by_hash[digest] for digest, pk in secondary.items() if pk == contact.pk
            }
            for number in numbers_held - {None}:
                found.setdefault(number, contact)
        return found

    def reachable(self):
        """Contacts a broadcast or a network test may write to: active, not erased, agreed to
        be contacted, not opted out."""
        return self.filter(
            active=True, erased_at__isnull=True, consents_to_contact=True, opted_out_at__isnull=True
        ).exclude(phone="")


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
    language = models.CharField(_("language"), max_length=8, blank=True)  # written to in
    # Other languages the contact speaks (ISO 639-1), for CLAs choosing who to call or meet.
    other_languages = models.JSONField(_("also speaks"), default=list, blank=True)
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
    # Erasure on request: name and numbers blanked, the pseudonym and the alerts stay.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)
    last_heard_at = models.DateTimeField(_("last heard from"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

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

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        ERASED = "erased", _("Erased")

    @property
    def status(self) -> str:
        if self.erased_at:
            return self.Status.ERASED
        return self.Status.ACTIVE if self.active else self.Status.INACTIVE

    def get_status_display(self) -> str:
        return self.Status(self.status).label

    @property
    def reachable(self) -> bool:
        return bool(
            self.active
            and not self.erased_at
            and self.consents_to_contact
            and not self.opted_out_at
            and self.phone
        )


class ContactPhone(models.Model):
    """A contact's secondary number (the main one is Contact.phone): encrypted, found by hash."""

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="numbers")
    number = EncryptedTextField(_("phone number"))
    number_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["contact", "pk"]
        verbose_name = _("contact phone number")
        verbose_name_plural = _("contact phone numbers")
        constraints = [
            models.UniqueConstraint(
                fields=["mission", "number_hash"],
                name="contactphone_unique_number",
                violation_error_message=_("Another contact already has this phone number."),
            ),
        ]

    def __str__(self):
        return f"{self.contact.code} #{self.pk}"  # never the number

    def save(self, *args, **kwargs):
        self.number_hash = keyed_hash(self.number)
        super().save(*args, **kwargs)


class ConsentRecord(models.Model):
    """What a contact agreed to, when, how, recorded by whom (the history; the latest record is
    mirrored on the contact). Holds no identity: it survives an erasure."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("By phone")
        SMS = "sms", _("By SMS")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    consents_to_contact = models.BooleanField(_("agrees to be contacted"))
    consents_to_feedback = models.BooleanField(_("agrees to receive word of the response"))
    method = models.CharField(_("how"), max_length=10, choices=Method.choices)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["contact", "-recorded_at", "-pk"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")

    def __str__(self):
        return f"{self.contact.code} {self.recorded_at:%Y-%m-%d}"


class SourceAccess(models.Model):
    """The audit of every attempt to see or export source identities, granted or refused, and of
    every erasure."""

    class Action(models.TextChoices):
        REVEAL = "reveal", _("Reveal an identity")
        EXPORT_IDENTITIES = "export_identities", _("Export identities")
        ERASE = "erase", _("Erase an identity")  # on the contact's request

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="accesses"
    )
    reason = models.TextField(_("reason"), blank=True)
    granted = models.BooleanField(_("granted"))
    count = models.PositiveIntegerField(_("identities"), default=0)
    ip_address = models.GenericIPAddressField(_("from"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("access to a source identity")
        verbose_name_plural = _("accesses to source identities")

    def __str__(self):
        target = self.contact.code if self.contact_id else self.get_action_display()
        return f"{self.user} {target} {self.at:%Y-%m-%d %H:%M}"


class OutreachActivity(models.Model):
    """A meeting, radio programme or sensitisation session a CLA held or took part in."""

    class Kind(models.TextChoices):
        MEETING = "meeting", _("Community meeting")
        RADIO = "radio", _("Radio programme")
        SENSITISATION = "sensitisation", _("Sensitisation")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    held_on = models.DateField(_("date"))
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("place")
    )
    cla = models.ForeignKey(
        "people.CLAProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outreach",
        verbose_name=_("CLA"),
    )
    women = models.PositiveIntegerField(_("women and girls"), default=0)
    men = models.PositiveIntegerField(_("men and boys"), default=0)
    messages = models.TextField(_("messages conveyed"))
    languages = models.JSONField(_("languages"), default=list, validators=[validate_language_list])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("outreach activity")
        verbose_name_plural = _("outreach activities")

    def __str__(self):
        return f"{self.get_kind_display()} {self.held_on} {self.area.name}"

    @property
    def audience(self) -> int:
        return self.women + self.men


class BroadcastTemplate(models.Model):
    """A message to the community, written once per language ({"fr": "...", "sw": "..."})."""

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    texts = models.JSONField(
        _("text per language"), default=dict, help_text=_('e.g. {"fr": "...", "sw": "..."}')
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["mission", "name"]
        verbose_name = _("broadcast template")
        verbose_name_plural = _("broadcast templates")
        constraints = [
            models.UniqueConstraint(fields=["mission", "name"], name="broadcasttemplate_unique")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if not isinstance(self.texts, dict) or not self.texts:
            raise ValidationError({"texts": _("Give the text in at least one language.")})
        validate_language_list(list(self.texts))
        if any(not isinstance(text, str) or not text.strip() for text in self.texts.values()):
            raise ValidationError({"texts": _("A language's text cannot be empty.")})


class Broadcast(models.Model):
    """An SMS to the consented contacts of an area (and all below it), in their languages.

    Prepared (recipients counted, shown for confirmation), then sent once: sending claims the
    row with a conditional UPDATE (prepared > sent), so a double click or a retry sends nothing
    more. Each recipient's SMS parts are linked through BroadcastRecipient for tracking.
    """

    class State(models.TextChoices):
        PREPARED = "prepared", _("Waiting for confirmation")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(
        BroadcastTemplate,
        on_delete=models.PROTECT,
        related_name="broadcasts",
        verbose_name=_("template"),
    )
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("area")
    )
    languages = models.JSONField(_("languages"), default=list, validators=[validate_language_list])
    state = models.CharField(max_length=10, choices=State.choices, default=State.PREPARED)
    expected = models.PositiveIntegerField(_("recipients when prepared"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")

    def __str__(self):
        return f"{self.template.name} > {self.area.name} ({self.created_at:%Y-%m-%d})"


class BroadcastRecipient(models.Model):
    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=8)
    messages = models.ManyToManyField("messaging.OutboundMessage", related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "contact"], name="broadcastrecipient_once_per_contact"
            )
        ]

    def __str__(self):
        return f"{self.broadcast_id} > {self.contact.code}"
