"""`manage.py api_token create|list|revoke`: issue, list and revoke API tokens."""

from datetime import UTC

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from kiungo.api.models import PREFIX_LENGTH, ApiToken


def _when(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "-"


class Command(BaseCommand):
    help = (
        "Manage API tokens. `create <username> --name NAME` prints a new token once (only its "
        "hash is kept); `list <username>` shows a user's tokens; `revoke <prefix>` stops one."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="Issue a token for a user (shown once).")
        create.add_argument("username")
        create.add_argument(
            "--name", required=True, help="What the token is for, e.g. 'Beni field tablet 3'."
        )
        listing = actions.add_parser("list", help="List a user's tokens.")
        listing.add_argument("username")
        revoke = actions.add_parser("revoke", help="Revoke a token, named by its prefix.")
        revoke.add_argument("prefix", help=f"The first {PREFIX_LENGTH} characters, e.g. kiu_Ab3x.")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _user(self, username: str):
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None

    def _create(self, *, username: str, name: str, **options):
        user = self._user(username)
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive: a token would not work.")
        name = name.strip()
        if not name:
            raise CommandError("Give the token a name (--name), e.g. 'Beni field tablet 3'.")
        token, raw = ApiToken.issue(user, name[:100])
        self.stdout.write(raw)
        self.stderr.write(
            f"Token {token.prefix}… for {username} ({token.name}). Store it now: it is not "
            "shown again. Send it as the header 'Authorization: Bearer <token>'."
        )

    def _list(self, *, username: str, **options):
        tokens = self._user(username).api_tokens.order_by("-created_at")
        if not tokens:
            self.stdout.write(f"{username} has no API tokens.")
            return
        for token in tokens:
            state = f"revoked {_when(token.revoked_at)}" if token.revoked_at else "active"
            self.stdout.write(
                f"{token.prefix}  {token.name}  created {_when(token.created_at)}  "
                f"last used {_when(token.last_used_at)}  {state}"
            )

    def _revoke(self, *, prefix: str, **options):
        try:
            token = ApiToken.objects.select_related("user").get(prefix=prefix.strip())
        except ApiToken.DoesNotExist:
            raise CommandError(
                f"No token with prefix {prefix!r}: give its first {PREFIX_LENGTH} characters, "
                "as shown by `api_token list <username>`."
            ) from None
        if token.revoked_at:
            self.stdout.write(f"Token {token.prefix} was already revoked.")
            return
        token.revoke()
        self.stdout.write(f"Revoked token {token.prefix} ({token.name}) of {token.user.username}.")
