from django.contrib import admin

from kiungo.alertnet.models import HotlineDistribution, NetworkPolicy, RadioStation
from kiungo.lib.admin import ScopedAdmin


@admin.register(NetworkPolicy)
class NetworkPolicyAdmin(ScopedAdmin):
    """A mission's silence threshold and network-test schedule."""

    scope_path = "mission"
    list_display = ["mission", "silence_days", "test_every_days", "answer_window_hours"]


# Corrections by administrators. Phones, budgets, top-ups, tests and notices keep to their
# rules on the network pages (an encrypted IMEI; budgets checked against top-ups): not here.


@admin.register(RadioStation)
class RadioStationAdmin(ScopedAdmin):
    scope_path = "base__mission"
    list_display = ["name", "call_sign", "frequency", "base", "active"]
    list_filter = ["base__mission", "active"]
    raw_id_fields = ["base", "locality", "contact"]


@admin.register(HotlineDistribution)
class HotlineDistributionAdmin(ScopedAdmin):
    scope_path = "base__mission"
    list_display = ["distributed_on", "base", "locality", "number", "cards"]
    list_filter = ["base__mission"]
    raw_id_fields = ["base", "locality", "channel", "distributed_by"]
