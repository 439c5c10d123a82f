"""API tokens: a bearer secret per client (a field device, an integration), tied to a user.

The token is shown once, when it is issued; only its SHA-256 is stored. (The token carries 256
random bits, so a plain hash is enough: nobody can guess their way back to it.) The first
characters are kept in clear, so that people can tell their tokens apart and revoke one.
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "kiu_"
PREFIX_LENGTH = 8  # "kiu_" and four random characters
# Recording every use would be a write per request; once a minute is enough to see activity.
USE_RECORD_INTERVAL = timedelta(minutes=1)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def for_token(self, raw: str):
        """The live token matching `raw`, with its (active) user; None for anything else."""
        if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
            return None
        return (
            self.active()
            .filter(token_hash=hash_token(raw), user__is_active=True)
            .select_related("user")
            .first()
        )


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. Beni field tablet 3"))
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["user", "-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        """A new token for `user`. Returns (token, raw secret): show the secret once, now."""
        while True:
            raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
            # The prefix is how people name a token (to revoke it): keep it unambiguous.
            if not cls.objects.filter(prefix=raw[:PREFIX_LENGTH]).exists():
                break
        token = cls.objects.create(
            user=user, name=name, prefix=raw[:PREFIX_LENGTH], token_hash=hash_token(raw)
        )
        return token, raw

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def record_use(self, now=None) -> None:
        """Note that the token was used, at most once per USE_RECORD_INTERVAL.

        A database too busy to take the write does not fail the request: this is bookkeeping.
        """
        now = now or timezone.now()
        if self.last_used_at is not None and now - self.last_used_at < USE_RECORD_INTERVAL:
            return
        try:
            with transaction.atomic():  # a savepoint inside a request's transaction, if any
                ApiToken.objects.filter(
                    Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - USE_RECORD_INTERVAL),
                    pk=self.pk,
                ).update(last_used_at=now)
        except DatabaseError:
            logger.warning("could not record the use of API token %s", self.prefix)
            return
        self.last_used_at = now
