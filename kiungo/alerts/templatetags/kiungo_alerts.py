"""Template helpers of the alert pages (and the navigation that leads to them)."""

from django import template

from kiungo.people.access import Capability, may

register = template.Library()


@register.simple_tag
def user_may(user, capability: str) -> bool:
    """`{% user_may user "log_alerts" as can_log %}`: the one permission check, for templates."""
    return bool(user.is_authenticated and may(user, Capability(capability)))
