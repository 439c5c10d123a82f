"""`manage.py rotate_field_keys`: re-encrypt every encrypted column with the current key.

Put the new key first in KIUNGO_FIELD_KEYS (keep the old ones after it), run this, then remove
the old keys. Rows are rewritten in batches, each in its own transaction.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from kiungo.lib.crypto import EncryptedTextField, rotate

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first key of KIUNGO_FIELD_KEYS."

    def handle(self, *args, **options):
        quote = connection.ops.quote_name
        for model in apps.get_models():
            fields = [f for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table, pk = model._meta.db_table, model._meta.pk.column
            columns = ", ".join(quote(f.column) for f in fields)
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
                        assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
                        cursor.execute(
                            f"UPDATE {quote(table)} SET {assignments} "  # noqa: S608
                            f"WHERE {quote(pk)} = %s",
                            [rotate(v) if v else v for v in values] + [row_pk],
                        )
                if not rows:
                    break
                done += len(rows)
                last = rows[-1][0]
            self.stdout.write(f"{model._meta.label}: {done} rows re-encrypted")
