"""Encryption at rest for source identities, and keyed hashes for looking them up.

Keys come from the environment (see README):
- KIUNGO_FIELD_KEYS: comma-separated Fernet keys; the first encrypts, all decrypt, so a new key
  can be put first and old rows re-encrypted with `manage.py rotate_keys`.
- KIUNGO_HASH_KEY: the HMAC key of the lookup hashes (a phone number is never a lookup key).
- KIUNGO_PREVIOUS_HASH_KEYS: during a hash-key rotation only, the comma-separated former hash
  keys: contact lookups also try their hashes until `manage.py rotate_keys` has recomputed every
  hash with the new key (then remove them).
Outside production, keys are derived from the secret key so that development just works.
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from kiungo.lib.env import env_secret


def _derived(purpose: str) -> bytes:
    digest = hashlib.sha256(f"kiungo:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


@cache
def _fernet() -> MultiFernet:
    keys = [key.strip() for key in env_secret("KIUNGO_FIELD_KEYS").split(",") if key.strip()]
    if not keys:
        if settings.PRODUCTION:
            raise ImproperlyConfigured("KIUNGO_FIELD_KEYS is required in production")
        keys = [_derived("field").decode()]
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "KIUNGO_FIELD_KEYS must hold Fernet keys (32 url-safe base64-encoded bytes)"
        ) from None


@cache
def _hash_key() -> bytes:
    key = env_secret("KIUNGO_HASH_KEY")
    if not key:
        if settings.PRODUCTION:
            raise ImproperlyConfigured("KIUNGO_HASH_KEY is required in production")
        return _derived("hash")
    return key.encode()


@cache
def _previous_hash_keys() -> tuple[bytes, ...]:
    keys = env_secret("KIUNGO_PREVIOUS_HASH_KEYS").split(",")
    return tuple(key.strip().encode() for key in keys if key.strip())


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored value cannot be decrypted: is the key that encrypted it in KIUNGO_FIELD_KEYS?"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a token with the current (first) key."""
    return _fernet().rotate(token.encode()).decode()


def keyed_hash(value: str) -> str:
    """A stable, keyed fingerprint of `value` (HMAC-SHA256, hex) for equality lookups."""
    return hmac.new(_hash_key(), value.encode(), hashlib.sha256).hexdigest()


def keyed_hash_candidates(value: str) -> list[str]:
    """The hash of `value` under the current key, then under each previous key (rotation)."""
    return [keyed_hash(value)] + [
        hmac.new(key, value.encode(), hashlib.sha256).hexdigest() for key in _previous_hash_keys()
    ]


def clear_key_caches() -> None:
    """Forget the keys read from the environment (tests; a long process after a rotation)."""
    _fernet.cache_clear()
    _hash_key.cache_clear()
    _previous_hash_keys.cache_clear()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the plain text.

    It cannot be searched or ordered by: pair it with a keyed hash column for lookups.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
