"""The benchmark's baseline: one row per request, the least a Django intake can do."""

from django.db import models


class BareRow(models.Model):
    sender = models.CharField(max_length=32)
    recipient = models.CharField(max_length=32)
    text = models.CharField(max_length=200)
    message_id = models.CharField(max_length=64)
    sent_at = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"bare row {self.pk}"
