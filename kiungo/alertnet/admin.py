from django.contrib import admin

from kiungo.alertnet.models import NetworkPolicy
from kiungo.lib.admin import ScopedAdmin


@admin.register(NetworkPolicy)
class NetworkPolicyAdmin(ScopedAdmin):
    """A mission's silence threshold and network-test schedule (records, not identities:
    phones, top-ups and notices are kept on the network pages, with their rules)."""

    scope_path = "mission"
    list_display = ["mission", "silence_days", "test_every_days", "answer_window_hours"]
