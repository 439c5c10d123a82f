"""An alert from a tested contact answers their open network test.

A signal rather than a call in kiungo/alerts/intake.py keeps intake unaware of network tests;
it costs one UPDATE per alert that comes from a known contact by SMS.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from kiungo.alertnet.health import answered_by_alert
from kiungo.alerts.models import Alert


@receiver(post_save, sender=Alert, dispatch_uid="alertnet-alert-answers-test")
def alert_answers_test(sender, instance: Alert, created: bool, raw: bool = False, **kwargs):
    if created and not raw and instance.contact_id and instance.source == Alert.Source.SMS:
        answered_by_alert(instance.contact_id, instance.received_at)
