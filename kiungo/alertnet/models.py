"""The Community Alert Network of a base: radio stations, hotline cards handed out, phones and
airtime given to key contacts, network tests and the notices about silent contacts.

A base's network is the set of key contacts whose home locality lies in the base's area of
responsibility; contacts themselves live in kiungo.network (names and numbers encrypted). Here
every reference to a contact is by foreign key, and screens show its pseudonym only.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from kiungo.forces.models import Base
from kiungo.geography.models import Area
from kiungo.lib.crypto import EncryptedTextField, keyed_hash
from kiungo.missions.models import Mission
from kiungo.network.models import Contact

DEFAULT_SILENCE_DAYS = 30
DEFAULT_TEST_EVERY_DAYS = 30
DEFAULT_ANSWER_WINDOW_HOURS = 48


class NetworkPolicy(models.Model):
    """A mission's network-health settings (defaults apply while a mission has none)."""

    mission = models.OneToOneField(Mission, on_delete=models.CASCADE, related_name="network_policy")
    silence_days = models.PositiveSmallIntegerField(
        _("silence threshold (days)"),
        default=DEFAULT_SILENCE_DAYS,
        help_text=_("A contact not heard from for longer is flagged to their CLA."),
    )
    test_every_days = models.PositiveSmallIntegerField(
        _("network test every (days)"),
        default=DEFAULT_TEST_EVERY_DAYS,
        help_text=_("0: no automatic network test."),
    )
    answer_window_hours = models.PositiveSmallIntegerField(
        _("answers counted for (hours)"), default=DEFAULT_ANSWER_WINDOW_HOURS
    )

    class Meta:
        verbose_name = _("network policy")
        verbose_name_plural = _("network policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(silence_days__gte=1), name="networkpolicy_silence_positive"
            ),
            models.CheckConstraint(
                condition=Q(answer_window_hours__gte=1), name="networkpolicy_window_positive"
            ),
        ]

    def __str__(self):
        return f"{self.mission}"

    @classmethod
    def of(cls, mission: Mission) -> "NetworkPolicy":
        """The mission's policy, or the defaults (unsaved) when it has none."""
        return cls.objects.filter(mission=mission).first() or cls(mission=mission)

    @property
    def silence(self) -> timedelta:
        return timedelta(days=self.silence_days)

    @property
    def answer_window(self) -> timedelta:
        return timedelta(hours=self.answer_window_hours)


class RadioStation(models.Model):
    """A community radio the base works with (alerts by radio, outreach programmes)."""

    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="radio_stations")
    name = models.CharField(_("name"), max_length=120)
    call_sign = models.CharField(_("call sign"), max_length=30, blank=True)
    frequency = models.CharField(_("frequency"), max_length=30, help_text=_("e.g. 98.5 FM"))
    schedule = models.CharField(
        _("broadcast schedule"), max_length=200, blank=True, help_text=_("e.g. daily 6:00-22:00")
    )
    locality = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("locality")
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("key contact at the station"),
    )
    contact_person = models.CharField(
        _("contact person (role, not a name)"),
        max_length=120,
        blank=True,
        help_text=_("e.g. station manager; a name stays out of Kiungo unless it is a contact."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["base", "name"]
        verbose_name = _("radio station")
        verbose_name_plural = _("radio stations")
        constraints = [
            models.UniqueConstraint(
                fields=["base", "name"],
                name="radiostation_unique_name",
                violation_error_message=_("This base already has a radio station of that name."),
            ),
        ]

    def __str__(self):
        return self.name


class HotlineDistribution(models.Model):
    """Cards with the mission's hotline number handed out in a locality."""

    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="hotline_distributions")
    # The number printed on the cards, kept even if its channel is later removed.
    number = models.CharField(_("hotline number"), max_length=20)
    channel = models.ForeignKey(
        "messaging.Channel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("channel"),
    )
    locality = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("where")
    )
    distributed_on = models.DateField(_("when"))
    cards = models.PositiveIntegerField(_("cards handed out"))
    distributed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["base", "-distributed_on", "-pk"]
        verbose_name = _("hotline distribution")
        verbose_name_plural = _("hotline distributions")
        constraints = [
            models.CheckConstraint(
                condition=Q(cards__gte=1),
                name="hotline_cards_positive",
                violation_error_message=_("Give the number of cards handed out (at least one)."),
            ),
        ]

    def __str__(self):
        return f"{self.locality.name} {self.distributed_on}: {self.cards}"


class IssuedPhone(models.Model):
    """A phone given to a key contact.

    The IMEI identifies the handset, and so the contact if the phone is seized: it is stored
    encrypted and shown only as its last four digits (`imei_tail`) in lists and exports.

    Lifecycle: ISSUED > RETURNED, or ISSUED > LOST / STOLEN (a security event for the contact).
    """

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")  # with the contact
        RETURNED = "returned", _("Returned")  # back with the base
        LOST = "lost", _("Lost")  # a security event: the phone may be in other hands
        STOLEN = "stolen", _("Stolen")  # a security event

    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="issued_phones")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="+", verbose_name=_("issued to")
    )
    model = models.CharField(_("model"), max_length=80)
    imei = EncryptedTextField(_("IMEI"))
    imei_hash = models.CharField(max_length=64, editable=False)  # keyed: finds a handset
    imei_tail = models.CharField(max_length=4, editable=False)
    issued_on = models.DateField(_("issued on"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    ended_on = models.DateField(_("returned, lost or stolen on"), null=True, blank=True)

    class Meta:
        ordering = ["base", "-issued_on", "-pk"]
        verbose_name = _("issued phone")
        verbose_name_plural = _("issued phones")
        constraints = [
            # A handset is with one contact at a time.
            models.UniqueConstraint(
                fields=["imei_hash"],
                condition=Q(status="issued"),
                name="issuedphone_one_holder",
                violation_error_message=_("This phone is already issued to a contact."),
            ),
            models.CheckConstraint(
                condition=(Q(status="issued") & Q(ended_on__isnull=True))
                | (~Q(status="issued") & Q(ended_on__isnull=False)),
                name="issuedphone_ended_iff_not_issued",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("issued_on")),
                name="issuedphone_ends_after_issue",
                violation_error_message=_("A phone cannot come back before it was issued."),
            ),
        ]

    def __str__(self):
        return f"{self.model} …{self.imei_tail}"

    def save(self, *args, **kwargs):
        self.imei_tail = (self.imei or "")[-4:]
        self.imei_hash = keyed_hash(self.imei) if self.imei else ""
        super().save(*args, **kwargs)


class SecurityEvent(models.Model):
    """Something that may expose a key contact (a lost or stolen phone): the CLA managers see
    it and are told by e-mail."""

    class Kind(models.TextChoices):
        PHONE_LOST = "phone_lost", _("Phone lost")
        PHONE_STOLEN = "phone_stolen", _("Phone stolen")

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="+", verbose_name=_("contact")
    )
    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("what happened"), max_length=20, choices=Kind.choices)
    occurred_on = models.DateField(_("on"))
    circumstances = models.TextField(_("circumstances"))
    phone = models.OneToOneField(
        IssuedPhone, on_delete=models.CASCADE, null=True, blank=True, related_name="event"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported at"))

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")

    def __str__(self):
        return f"{self.get_kind_display()} ({self.contact})"


class AirtimeBudget(models.Model):
    """What a base may spend on airtime for its contacts in a month (`month` is its 1st day)."""

    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="airtime_budgets")
    month = models.DateField(_("month"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217, e.g. USD"))

    class Meta:
        ordering = ["base", "-month"]
        verbose_name = _("airtime budget")
        verbose_name_plural = _("airtime budgets")
        constraints = [
            models.UniqueConstraint(
                fields=["base", "month"],
                name="airtimebudget_unique_month",
                violation_error_message=_("This base already has a budget for that month."),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="airtimebudget_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="airtimebudget_currency_iso"
            ),
        ]

    def __str__(self):
        return f"{self.base.code} {self.month:%Y-%m}"

    def clean(self):
        if self.month and self.month.day != 1:
            raise ValidationError({"month": _("A budget month is given by its first day.")})


class AirtimeTopUp(models.Model):
    """Airtime credited to a key contact's phone, paid from the base's monthly budget."""

    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="airtime_top_ups")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="+", verbose_name=_("contact")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    operator = models.CharField(_("operator"), max_length=40, help_text=_("e.g. Vodacom"))
    topped_up_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["base", "-topped_up_on", "-pk"]
        verbose_name = _("airtime top-up")
        verbose_name_plural = _("airtime top-ups")
        indexes = [models.Index(fields=["base", "topped_up_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="airtimetopup_amount_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="airtimetopup_currency_iso"
            ),
        ]

    def __str__(self):
        return f"{self.contact} {self.amount} {self.currency} ({self.topped_up_on})"


class NetworkTest(models.Model):
    """A short SMS sent to every reachable contact of a base; who answers within the window.

    An automatic test carries the first day of its schedule period (`period`): one per base
    and period, however many workers try (a unique constraint).
    """

    base = models.ForeignKey(Base, on_delete=models.CASCADE, related_name="network_tests")
    started_at = models.DateTimeField(_("started at"), db_index=True)
    closes_at = models.DateTimeField(_("answers counted until"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    period = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["base", "-started_at"]
        verbose_name = _("network test")
        verbose_name_plural = _("network tests")
        constraints = [
            models.UniqueConstraint(
                fields=["base", "period"],
                condition=Q(period__isnull=False),
                name="networktest_one_automatic_per_period",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("started_at")), name="networktest_window_positive"
            ),
        ]

    def __str__(self):
        return f"{self.base.code} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def automatic(self) -> bool:
        return self.period is not None


class NetworkTestRecipient(models.Model):
    """One contact sent a network test, and when they replied to it.

    An alert the contact sent by SMS within the window also counts as an answer: that is read
    from the alerts when figures are computed (health.reachability), so intake pays nothing.
    """

    test = models.ForeignKey(NetworkTest, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    # The contact's home locality when tested: reachability per locality stays as it was.
    locality = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("replied at"), null=True, blank=True)

    class Meta:
        ordering = ["test", "contact__code"]
        verbose_name = _("network test recipient")
        verbose_name_plural = _("network test recipients")
        constraints = [
            models.UniqueConstraint(fields=["test", "contact"], name="networktestrecipient_unique"),
        ]

    def __str__(self):
        return f"{self.test}: {self.contact}"


class SilenceNotice(models.Model):
    """A contact's CLA was told the contact has been silent too long: one notice per contact
    and silence period (a period is identified by the `last_heard_at` it started from; NULL
    for a contact never heard from)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    last_heard_at = models.DateTimeField(null=True, blank=True)
    cla = models.ForeignKey(
        "people.CLAProfile", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    noticed_at = models.DateTimeField(_("flagged at"))

    class Meta:
        ordering = ["-noticed_at"]
        verbose_name = _("silent-contact notice")
        verbose_name_plural = _("silent-contact notices")
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "last_heard_at"],
                condition=Q(last_heard_at__isnull=False),
                name="silencenotice_once_per_period",
            ),
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(last_heard_at__isnull=True),
                name="silencenotice_once_if_never_heard",
            ),
        ]

    def __str__(self):
        return f"{self.contact} ({self.noticed_at:%Y-%m-%d})"
