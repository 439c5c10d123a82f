import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kiungo.alerts import escalation, response, routing, selectors
from kiungo.alerts.forms import (
    WHEN_FORMAT,
    BoardFilterForm,
    CloseForm,
    CorrectionForm,
    DismissForm,
    LogAlertForm,
    MergeForm,
    ReassignForm,
    RelevelForm,
    RespondForm,
    SplitForm,
    VerifyForm,
)
from kiungo.alerts.incidents import merge_incidents, split_alerts
from kiungo.alerts.intake import log_alert
from kiungo.alerts.models import Alert, Incident, Outcome, Response
from kiungo.alerts.services import correct_alert
from kiungo.geography.models import Area
from kiungo.lib.logging import redact
from kiungo.messaging.models import InboundMessage
from kiungo.people.access import Capability, access, can_see, may, visible_areas, visible_missions

FILTER_KEYS = ("mission", "area", "level", "threat", "status", "overdue")
DATALIST_LIMIT = 400  # localities offered as suggestions; any other name or P-code still works


def _require(user, capability):
    if not may(user, capability):
        raise PermissionDenied


def _board_filters(request):
    form = BoardFilterForm(request.GET, user=request.user)
    form.is_valid()  # invalid fields are reported and ignored; the others still filter
    query = request.GET.copy()
    for key in list(query):
        if key not in FILTER_KEYS:
            del query[key]
    return form, selectors.board_incidents(request.user, **form.filters()), query.urlencode()


@login_required
def board(request):
    """Open incidents in scope, most severe then oldest first; refreshed by board.js."""
    _require(request.user, Capability.VIEW_ALERTS)
    form, incidents, query = _board_filters(request)
    page = Paginator(selectors.board_rows(incidents), selectors.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    selectors.decorate_rows(page.object_list)
    selectors.mark_acknowledgeable(request.user, page.object_list)
    context = {
        "form": form,
        "page": page,
        "query": query,
        "stamp": selectors.board_stamp(incidents),
        "several_missions": "mission" in form.fields,
    }
    if request.GET.get("fragment"):
        return render(request, "alerts/_board_table.html", context)
    return render(request, "alerts/board.html", context)


@login_required
def board_stamp(request):
    """A few bytes that change when the board would: polled every 2 s by board.js."""
    _require(request.user, Capability.VIEW_ALERTS)
    _form, incidents, _query = _board_filters(request)
    response = JsonResponse({"stamp": selectors.board_stamp(incidents)})
    response["Cache-Control"] = "no-store"
    return response


def _incident_context(request, incident, **forms):
    alerts = list(selectors.alerts_of(request.user, incident))
    for alert in alerts:
        alert.source_name = selectors.source_label(alert)
    in_triage_scope = can_see(request.user, incident, Capability.TRIAGE_ALERTS)
    triage = incident.status != Incident.Status.MERGED and in_triage_scope
    # Closed, dismissed and merged incidents take no more answers: no action form at all.
    can_respond = incident.is_open and can_see(request.user, incident, Capability.RESPOND_ALERTS)
    can_decide = incident.is_open and in_triage_scope
    steps = escalation.steps_of(incident) if incident.is_open else []
    context = {
        "incident": incident,
        "ancestors": list(incident.area.ancestors())[::-1] if incident.area else [],
        "alerts": alerts,
        "hidden_alerts": max(0, incident.alert_count - len(alerts)),
        "point": selectors.map_point(alerts, incident.area),
        "events": selectors.history(incident),
        "triage": triage,
        "can_respond": can_respond,
        "can_decide": can_decide,
        "next_step": (
            steps[incident.escalations]
            if incident.next_escalation_at and incident.escalations < len(steps)
            else None
        ),
        "action_errors": forms.get("action_errors", []),
        "messages_sent": (
            selectors.messages_about(incident)
            if may(request.user, Capability.VIEW_OUTBOX, incident.mission_id)
            else None
        ),
        "zone": incident.mission.time_zone,
    }
    if triage:
        context["merge_form"] = forms.get("merge_form") or MergeForm(
            incident=incident, user=request.user
        )
        context["split_form"] = forms.get("split_form") or SplitForm(alerts=alerts)
    if can_respond or can_decide:
        context["respond_form"] = forms.get("respond_form") or RespondForm()
        context["close_form"] = forms.get("close_form") or CloseForm()
    if can_decide:
        context["verify_form"] = forms.get("verify_form") or VerifyForm()
        context["dismiss_form"] = forms.get("dismiss_form") or DismissForm()
        context["relevel_form"] = forms.get("relevel_form") or RelevelForm(incident=incident)
        context["reassign_form"] = forms.get("reassign_form") or ReassignForm(incident=incident)
    return context


def _get_incident(request, reference, capability=None):
    args = {} if capability is None else {"capability": capability}
    incident = access(request.user, Incident, reference=reference.upper(), **args)
    return Incident.objects.select_related(
        "area",
        "level",
        "mission",
        "merged_into",
        "unit__parent__parent__parent",
        "base",
        "acknowledged_by_unit",
    ).get(pk=incident.pk)


@login_required
def incident_detail(request, reference: str):
    incident = _get_incident(request, reference)
    return render(request, "alerts/incident_detail.html", _incident_context(request, incident))


# The response to an incident: each action is one small POST view that reads its form,
# checks the capability through kiungo.people.access (404 outside scope), calls the service
# of kiungo.alerts.response or routing, and goes back to the page it came from. The rules
# are the services'; their ValidationError is shown on the incident page with status 400.


def _back(request, incident):
    """To `next` when it is a page of this site (the queue's inline buttons), else to the
    incident's page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("incident-detail", incident.reference)


def _act(request, reference, capability, name, make_form, perform):
    """Run one action. `make_form(incident)` reads the POST; `perform(incident, data, actor)`
    calls the service and returns (message level, message)."""
    incident = _get_incident(request, reference, capability)
    form = make_form(incident)
    action_errors = []
    if form.is_valid():
        actor = response.Actor(
            user=request.user,
            unit=selectors.acting_unit(request.user, incident),
            channel="web",
        )
        try:
            level, text = perform(incident, form.cleaned_data, actor)
        except ValidationError as error:
            if getattr(error, "code", None) == "reason" and "reason" in form.fields:
                form.add_error("reason", error)
            else:
                action_errors = error.messages
        else:
            messages.add_message(request, level, text)
            return _back(request, incident)
    # Nothing changed: show the incident as it is now, with what went wrong.
    incident = _get_incident(request, reference)
    context = _incident_context(request, incident, action_errors=action_errors, **{name: form})
    return render(request, "alerts/incident_detail.html", context, status=400)


def _said(changed: bool, incident, done: str, unchanged: str, **values):
    """A success message, or an information one when the service changed nothing."""
    text = done if changed else unchanged
    return (
        messages.SUCCESS if changed else messages.INFO,
        text % {"reference": incident.reference, **values},
    )


@login_required
@require_POST
def incident_acknowledge(request, reference: str):
    def perform(incident, _data, actor):
        return _said(
            response.acknowledge(incident, actor),
            incident,
            _("Incident %(reference)s acknowledged."),
            _("Incident %(reference)s was already acknowledged."),
        )

    return _act(
        request,
        reference,
        Capability.RESPOND_ALERTS,
        "acknowledge_form",
        lambda incident: forms.Form(request.POST),
        perform,
    )


@login_required
@require_POST
def incident_respond(request, reference: str):
    def perform(incident, data, actor):
        return _said(
            response.respond(incident, data["response"], actor, reason=data["reason"]),
            incident,
            _("Response recorded for %(reference)s: %(response)s."),
            _("This response was already recorded for %(reference)s."),
            response=Response(data["response"]).label,
        )

    return _act(
        request,
        reference,
        Capability.RESPOND_ALERTS,
        "respond_form",
        lambda incident: RespondForm(request.POST),
        perform,
    )


@login_required
@require_POST
def incident_close(request, reference: str):
    def perform(incident, data, actor):
        response.close(incident, data["outcome"], actor, note=data["note"])
        return _said(
            True,
            incident,
            _("Incident %(reference)s closed: %(outcome)s."),
            "",
            outcome=Outcome(data["outcome"]).label,
        )

    # The unit and the early-warning cell both close; every role that triages also responds.
    return _act(
        request,
        reference,
        Capability.RESPOND_ALERTS,
        "close_form",
        lambda incident: CloseForm(request.POST),
        perform,
    )


@login_required
@require_POST
def incident_dismiss(request, reference: str):
    def perform(incident, data, actor):
        response.dismiss(incident, actor, reason=data["reason"])
        return _said(True, incident, _("Incident %(reference)s dismissed."), "")

    return _act(
        request,
        reference,
        Capability.TRIAGE_ALERTS,
        "dismiss_form",
        lambda incident: DismissForm(request.POST),
        perform,
    )


@login_required
@require_POST
def incident_verify(request, reference: str):
    def perform(incident, data, actor):
        return _said(
            response.verify(incident, actor, note=data["note"]),
            incident,
            _("Incident %(reference)s marked as verified."),
            _("Incident %(reference)s was already verified."),
        )

    return _act(
        request,
        reference,
        Capability.TRIAGE_ALERTS,
        "verify_form",
        lambda incident: VerifyForm(request.POST),
        perform,
    )


@login_required
@require_POST
def incident_relevel(request, reference: str):
    def perform(incident, data, actor):
        return _said(
            response.relevel(incident, data["level"], actor, reason=data["reason"]),
            incident,
            _("Incident %(reference)s is now at level %(level)s; its deadlines follow it."),
            _("Incident %(reference)s already has this level."),
            level=_(data["level"].name),
        )

    return _act(
        request,
        reference,
        Capability.TRIAGE_ALERTS,
        "relevel_form",
        lambda incident: RelevelForm(request.POST, incident=incident),
        perform,
    )


@login_required
@require_POST
def incident_reassign(request, reference: str):
    def perform(incident, data, actor):
        routing.reassign(incident, data["unit"], request.user, data["reason"], channel="web")
        return _said(
            True,
            incident,
            _("Incident %(reference)s reassigned to %(unit)s."),
            "",
            unit=data["unit"].code,
        )

    return _act(
        request,
        reference,
        Capability.TRIAGE_ALERTS,
        "reassign_form",
        lambda incident: ReassignForm(request.POST, incident=incident),
        perform,
    )


@login_required
def queue(request):
    """What the units the user answers for must do next: acknowledge, decide, follow up."""
    _require(request.user, Capability.RESPOND_ALERTS)
    context = {
        "queue": selectors.unit_queue(request.user),
        "several_missions": visible_missions(request.user, Capability.RESPOND_ALERTS).count() > 1,
        "here": request.get_full_path(),
    }
    return render(request, "alerts/queue.html", context)


@login_required
@require_POST
def incident_merge(request, reference: str):
    incident = _get_incident(request, reference, Capability.TRIAGE_ALERTS)
    if incident.status == Incident.Status.MERGED:
        raise Http404
    form = MergeForm(request.POST, incident=incident, user=request.user)
    if form.is_valid():
        others = form.cleaned_data["references"]
        merge_incidents(incident, others, request.user)
        messages.success(
            request,
            _("Merged %(others)s into %(incident)s.")
            % {
                "others": ", ".join(other.reference for other in others),
                "incident": incident.reference,
            },
        )
        return redirect("incident-detail", incident.reference)
    context = _incident_context(request, incident, merge_form=form)
    return render(request, "alerts/incident_detail.html", context)


@login_required
@require_POST
def incident_split(request, reference: str):
    incident = _get_incident(request, reference, Capability.TRIAGE_ALERTS)
    if incident.status == Incident.Status.MERGED:
        raise Http404
    alerts = list(selectors.alerts_of(request.user, incident))
    form = SplitForm(request.POST, alerts=alerts)
    if form.is_valid():
        try:
            new = split_alerts(incident, form.cleaned_data["alerts"], request.user)
        except ValueError:
            form.add_error("alerts", _("Choose some, but not all, of the incident's alerts."))
        else:
            count = len(form.cleaned_data["alerts"])
            text = ngettext(
                "%(count)d alert moved to the new incident %(new)s.",
                "%(count)d alerts moved to the new incident %(new)s.",
                count,
            )
            messages.success(request, text % {"count": count, "new": new.reference})
            return redirect("incident-detail", incident.reference)
    context = _incident_context(request, incident, split_form=form)
    return render(request, "alerts/incident_detail.html", context)


def _alert_context(request, alert, form=None):
    alert.source_name = selectors.source_label(alert)
    triage = can_see(request.user, alert, Capability.TRIAGE_ALERTS)
    context = {
        "alert": alert,
        "ancestors": list(alert.area.ancestors())[::-1] if alert.area else [],
        "point": selectors.map_point([alert], alert.area),
        "events": selectors.alert_history(alert),
        "triage": triage,
        "zone": alert.mission.time_zone,
    }
    if triage:
        context["form"] = form or CorrectionForm(alert=alert, user=request.user)
    return context


def _get_alert(request, reference, capability=None):
    alert = selectors.one_alert(request.user, reference, capability).first()
    if alert is None:
        raise Http404
    return alert


@login_required
def alert_detail(request, reference: str):
    alert = _get_alert(request, reference)
    return render(request, "alerts/alert_detail.html", _alert_context(request, alert))


@login_required
@require_POST
def alert_correct(request, reference: str):
    alert = _get_alert(request, reference, Capability.TRIAGE_ALERTS)
    form = CorrectionForm(request.POST, alert=alert, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        before = alert.incident.reference if alert.incident else ""
        alert = correct_alert(
            alert, user=request.user, area=data["area"], threat=data["threat"], level=data["level"]
        )
        after = alert.incident.reference if alert.incident else ""
        if before != after:
            text = _("Alert %(alert)s corrected and moved to incident %(incident)s.")
        else:
            text = _("Alert %(alert)s corrected.")
        messages.success(request, text % {"alert": alert.reference, "incident": after})
        return redirect("alert-detail", alert.reference)
    return render(request, "alerts/alert_detail.html", _alert_context(request, alert, form))


def _fresh_log_form(user, data=None):
    """A new form: its own idempotency key, the time now in the mission's local time."""
    missions = list(visible_missions(user, Capability.LOG_ALERTS)[:2])
    zone = missions[0].time_zone if len(missions) == 1 else None
    now = timezone.localtime(timezone.now(), ZoneInfo(zone) if zone else None)
    initial = {"key": str(uuid.uuid4()), "when": now.strftime(WHEN_FORMAT), "source": "call"}
    if data is not None:
        data = data.copy()
        data["key"] = initial["key"]
        return LogAlertForm(data, user=user)
    return LogAlertForm(user=user, initial=initial)


@login_required
def alert_new(request):
    """Log an alert taken by phone, radio or in person; safe to submit twice."""
    _require(request.user, Capability.LOG_ALERTS)
    if request.method == "POST":
        form = LogAlertForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            key = data["key"] or str(uuid.uuid4())
            try:
                alert, created = log_alert(
                    mission=data["mission"],
                    user=request.user,
                    idempotency_key=key,
                    text=data["text"],
                    source=data["source"],
                    area=data["area"],
                    threat=data["threat"] or None,
                    level=data["level_obj"],
                    contact=data["contact_obj"],
                    occurred_at=data["when"],
                )
            except ValueError:
                # The same form was already sent with other content: keep what was typed,
                # give it a new key, and say so.
                form = _fresh_log_form(request.user, request.POST)
                form.is_valid()
                form.add_error(
                    None,
                    _(
                        "This form was already used to log another alert. Check the details "
                        "and send again to log a new one."
                    ),
                )
            else:
                return _logged(request, alert, created, data)
    else:
        form = _fresh_log_form(request.user)
    localities = (
        visible_areas(request.user, Capability.LOG_ALERTS)
        .filter(level=Area.Level.LOCALITY)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()[:DATALIST_LIMIT]
    )
    return render(request, "alerts/alert_new.html", {"form": form, "localities": localities})


def _logged(request, alert, created, data):
    if not created:
        messages.info(
            request,
            _("Alert %(ref)s was already logged; it was not logged twice.")
            % {"ref": alert.reference},
        )
        return redirect("alert-detail", alert.reference)
    messages.success(request, _("Alert %(ref)s logged.") % {"ref": alert.reference})
    place = data.get("place", "").strip()
    if data["area"] is None and place:
        if alert.area is None:
            # What was typed is kept on the alert, for the officer who will place it.
            Alert.objects.filter(pk=alert.pk).update(place_text=place[:200])
            text = _(
                "The place “%(place)s” was not found. The alert is stored and marked for "
                "review: an early-warning officer will place it."
            )
        else:
            text = _(
                "The place “%(place)s” was not found; the alert was placed from its text at "
                "%(area)s. Check it."
            )
        messages.warning(request, text % {"place": place, "area": getattr(alert.area, "name", "")})
    return redirect("alert-detail", alert.reference)


@login_required
def inbound(request):
    """Inbound SMS that could not be processed (and recent ones): raw, with numbers masked."""
    _require(request.user, Capability.TRIAGE_ALERTS)
    missions = visible_missions(request.user, Capability.TRIAGE_ALERTS)
    show = request.GET.get("show", "review")
    rows = (
        InboundMessage.objects.filter(channel__mission__in=missions)
        .select_related("channel", "channel__mission", "alert")
        .defer("sender")  # never read, never shown
        .order_by("-received_at", "-pk")
    )
    if show == "recent":
        rows = rows.filter(received_at__gte=timezone.now() - timedelta(days=7))
    else:
        show = "review"
        rows = rows.filter(state=InboundMessage.State.NEEDS_REVIEW)
    page = Paginator(rows, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    for message in page.object_list:
        message.safe_raw = redact(message.raw)
        message.safe_error = redact(message.error)
        message.safe_text = redact(message.text)
        try:
            message.alert_reference = message.alert.reference
        except Alert.DoesNotExist:
            message.alert_reference = ""
    return render(request, "alerts/inbound.html", {"page": page, "show": show})
