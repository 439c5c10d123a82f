"""Gateway connections and every SMS that crossed them, in and out.

An inbound SMS is written here, raw, before the gateway is told it was received; the alert
pipeline then reads it. A gateway's message id makes a redelivery find the first row instead
of creating a second one.
"""

import json
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiungo.lib.crypto import EncryptedTextField
from kiungo.missions.models import Mission

RAW_LIMIT = 16 * 1024  # bytes of a raw request kept for inspection; a real SMS is far smaller


class Channel(models.Model):
    class Kind(models.TextChoices):
        TWILIO = "twilio", "Twilio"
        AFRICASTALKING = "africastalking", "Africa's Talking"
        EXTERNAL = "external", _("External HTTP gateway")
        SMSSYNC = "smssync", _("SMSSync Android relay")
        CONSOLE = "console", _("Console (development)")

    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    phone_number = models.CharField(_("gateway number"), max_length=20, blank=True)
    secrets = EncryptedTextField(
        _("secrets (JSON)"),
        blank=True,
        default="",
        help_text=_(
            "Per kind: twilio {account_sid, auth_token}; africastalking {username, "
            "api_key}; external {secret, send_url}; smssync {secret}."
        ),
    )
    allowed_ips = models.JSONField(
        _("allowed sender IP addresses"),
        default=list,
        blank=True,
        help_text=_("Empty: any address. Used where a provider signs nothing."),
    )
    active = models.BooleanField(_("active"), default=True)
    notifies = models.BooleanField(
        _("sends the mission's notifications"),
        default=False,
        help_text=_(
            "Alerts and escalations to duty phones go out through this channel (one per mission)."
        ),
    )
    replies_via = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("send replies through"),
        help_text=_("Empty: replies to senders go back through this channel."),
    )
    send_per_minute = models.PositiveIntegerField(
        _("messages sent per minute"),
        default=60,
        help_text=_("The worker sends no more than this through the channel in any minute."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["mission", "name"]
        verbose_name = _("SMS channel")
        verbose_name_plural = _("SMS channels")
        constraints = [
            models.UniqueConstraint(
                fields=["mission"], condition=Q(notifies=True), name="channel_one_notifier"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def config(self) -> dict:
        return json.loads(self.secrets) if self.secrets else {}

    def set_config(self, **values) -> None:
        self.secrets = json.dumps(values, sort_keys=True)


class InboundMessage(models.Model):
    """One SMS as a gateway delivered it.

    RECEIVED: stored, waiting for the worker to understand it.
    PROCESSED: understood and turned into an alert (or an SMS command applied).
    NEEDS_REVIEW: stored, but the pipeline failed: an officer looks at the raw message.
    REFUSED: a reply code from a phone that may not answer for that incident (kept, not applied).
    """

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        REFUSED = "refused", _("Refused")

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="inbound")
    external_id = models.CharField(_("gateway message id"), max_length=100, blank=True)
    sender = EncryptedTextField(_("sender"), blank=True)
    sender_hash = models.CharField(max_length=64, blank=True, db_index=True)
    text = models.TextField(_("text"), blank=True)
    raw = EncryptedTextField(_("raw request"), blank=True)
    received_at = models.DateTimeField(_("received"), db_index=True)
    sent_at = models.DateTimeField(_("sent by the phone"), null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.RECEIVED)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("inbound SMS")
        verbose_name_plural = _("inbound SMS")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~Q(external_id=""),
                name="inbound_unique_gateway_id",
            ),
        ]
        indexes = [  # the worker's queue: small, whatever the size of the table
            models.Index(fields=["id"], condition=Q(state="received"), name="inbound_to_process"),
        ]

    def __str__(self):
        return f"SMS {self.pk} via {self.channel_id}"


class Purpose(models.TextChoices):
    """Why a message (SMS or e-mail) was written: shown on the outbox page."""

    RECEIPT = "receipt", _("Receipt to the sender")
    FOLLOW_UP = "follow_up", _("Word of the response to the source")
    ALERT = "alert", _("Alert to the responsible unit")
    ESCALATION = "escalation", _("Escalation")
    REPLY = "reply", _("Answer to a reply code")
    BROADCAST = "broadcast", _("Broadcast to contacts")  # network/broadcasts.py (not urgent)
    REPORT = "report", _("Field report")  # a flash report distributed, an SMS report answered
    REMINDER = "reminder", _("Reporting reminder or missing-report notice")
    OTHER = "other", _("Other")


class Outgoing(models.Model):
    """What an SMS and an e-mail to send have in common: their delivery state, the worker's
    lease, and what they are about and for whom, as officers see it (a unit's duty phone, a
    contact's pseudonym, an officer's name: never the number or address, which stay in `to`)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")  # waiting for the worker or an SMSSync poll
        SENT = "sent", _("Sent")  # the gateway accepted it
        DELIVERED = "delivered", _("Delivered")  # the gateway reported delivery
        ERRORED = "errored", _("Error, will retry")  # transient failure
        FAILED = "failed", _("Failed")  # permanent failure (invalid number…): never retried

    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)  # sends tried (rate-limit waits not)
    error = models.TextField(_("error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now, db_index=True)
    # A worker's lease while it sends; NULL or past: free (a crashed worker's claim expires).
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    purpose = models.CharField(
        _("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.OTHER
    )
    recipient_label = models.CharField(_("recipient"), max_length=120, blank=True)

    class Meta:
        abstract = True


class OutboundMessage(Outgoing):
    """An SMS Kiungo sends (one row per SMS part; see messaging/outbox.py).

    QUEUED > SENT > DELIVERED, with ERRORED (transient: retried) and FAILED (permanent):

        QUEUED --send ok--> SENT --report--> DELIVERED
          |  ^                 `--report--> FAILED (the handset never got it)
          |  '-- rate limit: next_attempt_at moves to the next minute, no attempt counted
          |--transient error--> ERRORED --retry at next_attempt_at--> SENT / ERRORED / FAILED
          '--permanent error, or the 10th transient one--> FAILED (never retried)

    The worker (messaging/delivery.py) takes QUEUED and ERRORED rows whose `next_attempt_at`
    has come and holds one with a lease (`claimed_until`) while it sends, so two workers never
    send the same row and a crashed worker's claim expires. Rows of a pulling channel
    (SMSSync) stay QUEUED until the phone's poll claims them (QUEUED > SENT).
    """

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="outbound")
    to = EncryptedTextField(_("to"))
    to_hash = models.CharField(max_length=64, db_index=True)
    text = models.TextField(_("text"))
    external_id = models.CharField(_("gateway message id"), max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    incident = models.ForeignKey(
        "alerts.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sms",
        verbose_name=_("incident"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outbound SMS")
        verbose_name_plural = _("outbound SMS")
        indexes = [
            models.Index(fields=["channel", "external_id"]),
            models.Index(fields=["state", "channel"]),
        ]

    def __str__(self):
        return f"SMS out {self.pk} ({self.state})"


class OutboundEmail(Outgoing):
    """An e-mail Kiungo sends to an officer, written in the transaction of its cause.

    The same life as an SMS (QUEUED > SENT, ERRORED retried with backoff, FAILED for good),
    sent by the worker through Django's e-mail backend (messaging/delivery.py).
    """

    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    incident = models.ForeignKey(
        "alerts.Incident",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("incident"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outbound e-mail")
        verbose_name_plural = _("outbound e-mails")
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return f"E-mail out {self.pk} ({self.state})"
