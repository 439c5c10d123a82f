"""Short references people can read over a phone and type in an SMS (no 0/O, 1/I/L)."""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference(prefix: str, length: int = 5) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))
