"""`manage.py rotate_keys`: re-encrypt every encrypted column with the current key, and
recompute every keyed hash with the current hash key.

Encryption key: put the new key first in KIUNGO_FIELD_KEYS (keep the old ones after it), run
this, then remove the old keys. Hash key: set the new KIUNGO_HASH_KEY and move the old one to
KIUNGO_PREVIOUS_HASH_KEYS (contacts are still found by number meanwhile), run this, then remove
KIUNGO_PREVIOUS_HASH_KEYS. Rows are rewritten in batches, each in its own transaction; running
it twice is harmless.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from kiungo.lib.crypto import EncryptedTextField, decrypt, keyed_hash, rotate

BATCH = 500

# Encrypted column -> the column holding its keyed hash (recomputed from the plain text).
# test_key_rotation checks that every *_hash column of the project is listed here.
HASHED = {
    ("network.Contact", "phone"): "phone_hash",
    ("network.ContactPhone", "number"): "number_hash",
    ("people.CLAProfile", "phone"): "phone_hash",
    ("messaging.InboundMessage", "sender"): "sender_hash",
    ("messaging.OutboundMessage", "to"): "to_hash",
    ("alertnet.IssuedPhone", "imei"): "imei_hash",
}
# Hashes copied from another row's hash rather than computed from a value of their own.
COPIED = {("alerts.Alert", "sender_hash"): "the hash of the alert's inbound SMS sender"}
# Plain SHA-256 fingerprints, no key: a random API token; a logged alert's request body.
NOT_KEYED = {("api.ApiToken", "token_hash"), ("alerts.Alert", "request_hash")}


def _hash_column(model, field) -> str | None:
    name = HASHED.get((model._meta.label, field.name))
    return model._meta.get_field(name).column if name else None


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field with the first key of KIUNGO_FIELD_KEYS and recompute "
        "keyed hashes with KIUNGO_HASH_KEY."
    )

    def handle(self, *args, **options):
        for model in apps.get_models():
            fields = [f for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if fields:
                done = self._rekey(model, fields)
                self.stdout.write(f"{model._meta.label}: {done} rows re-encrypted")
        self._copy_alert_sender_hashes()

    def _copy_alert_sender_hashes(self):
        """An alert groups with its sender's other alerts by this hash (corroboration)."""
        from kiungo.alerts.models import Alert
        from kiungo.messaging.models import InboundMessage

        sender = InboundMessage.objects.filter(pk=OuterRef("inbound_id")).values("sender_hash")
        with transaction.atomic():
            done = Alert.objects.filter(inbound__isnull=False).update(sender_hash=Subquery(sender))
        self.stdout.write(f"alerts.Alert: {done} sender hashes recomputed")

    def _rekey(self, model, fields) -> int:
        quote = connection.ops.quote_name
        table, pk = model._meta.db_table, model._meta.pk.column
        columns = ", ".join(quote(f.column) for f in fields)
        hashes = [_hash_column(model, f) for f in fields]
        assignments = [f"{quote(f.column)} = %s" for f in fields]
        assignments += [f"{quote(h)} = %s" for h in hashes if h]
        done, last = 0, None
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                where = f"WHERE {quote(pk)} > %s " if last is not None else ""
                cursor.execute(
                    f"SELECT {quote(pk)}, {columns} FROM {quote(table)} {where}"  # noqa: S608
                    f"ORDER BY {quote(pk)} LIMIT {BATCH}",
                    [last] if last is not None else [],
                )
                rows = cursor.fetchall()
                for row_pk, *values in rows:
                    new_values = [rotate(v) if v else v for v in values]
                    new_hashes = [
                        (keyed_hash(decrypt(v)) if v else "")
                        for v, h in zip(values, hashes, strict=True)
                        if h
                    ]
                    cursor.execute(
                        f"UPDATE {quote(table)} SET {', '.join(assignments)} "  # noqa: S608
                        f"WHERE {quote(pk)} = %s",
                        new_values + new_hashes + [row_pk],
                    )
            if not rows:
                return done
            done += len(rows)
            last = rows[-1][0]
