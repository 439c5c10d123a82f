from django import template
from django.utils.translation import gettext as _

from kiungo.reports.dashboard import STATE_LABELS

register = template.Library()


@register.filter
def state_label(cell) -> str:
    return str(STATE_LABELS.get(cell.state, "")) if cell else ""


@register.filter
def share(tally) -> str:
    value = tally.share_on_time
    return "—" if value is None else _("%(percent)d%%") % {"percent": round(value * 100)}
