"""Sharing an active plan with the unit responsible for the committee's locality, and the
unit's answers to the committee's requests to the mission.

The responsible unit is the one alert routing uses (kiungo.forces.responsibility). Its duty
officers are told by e-mail, through the outbox, in the same transaction as the sharing.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kiungo.alerts.notify import language_for, unit_recipients
from kiungo.forces.models import Unit
from kiungo.forces.responsibility import responsible_for_area
from kiungo.messaging.models import Purpose
from kiungo.messaging.outbox import queue_email
from kiungo.protection.models import MitigationMeasure, PlanRequestAnswer, ProtectionPlan

Answer = MitigationMeasure.Answer
UNIT_ANSWERS = (Answer.ACCEPTED, Answer.DECLINED, Answer.DONE)


def share(plan: ProtectionPlan, now=None) -> Unit | None:
    """Address the plan and its requests to the responsible unit and tell its duty officers.
    Call inside the activation's transaction. Returns the unit (None: nobody answers there,
    and the plan page says so). A request already answered by that same unit in the previous
    version keeps its answer; one addressed to another unit starts again, pending."""
    now = now or timezone.now()
    held = responsible_for_area(plan.committee.locality)
    unit = held.unit if held else None
    plan.shared_with, plan.shared_at = unit, (now if unit else None)
    plan.save(update_fields=["shared_with", "shared_at"])
    if unit is None:
        return None
    requests = plan.measures.filter(by=MitigationMeasure.By.MISSION)
    requests.exclude(unit=unit).update(
        unit=unit,
        requested_at=now,
        answer=Answer.PENDING,
        answer_text="",
        answered_by=None,
        answered_at=None,
    )
    _tell(plan, unit, requests.count())
    return unit


def _officers(unit: Unit):
    """The unit's duty officers; if it has none, those of the nearest unit above that has."""
    for level in unit.chain():
        officers = unit_recipients(level).officers
        if officers:
            return officers
    return []


def _tell(plan: ProtectionPlan, unit: Unit, request_count: int) -> int:
    committee = plan.committee
    with translation.override(language_for(committee.mission)):
        subject = _("[Kiungo] Protection plan shared with %(unit)s: %(committee)s") % {
            "unit": unit.code,
            "committee": committee.name,
        }
        body = "\n".join(
            [
                _(
                    "The protection committee %(committee)s (%(locality)s) has activated "
                    "version %(version)s of its community protection plan, with %(count)s "
                    "request(s) to the mission for your unit."
                )
                % {
                    "committee": committee.name,
                    "locality": committee.locality.name,
                    "version": plan.version,
                    "count": request_count,
                },
                _("Record your answer to each request:"),
                settings.PUBLIC_URL + reverse("plan-requests"),
            ]
        )
    officers = _officers(unit)
    for officer in officers:
        queue_email(
            officer.email,
            subject,
            body,
            purpose=Purpose.OTHER,
            recipient_label=officer.get_full_name() or officer.username,
        )
    return len(officers)


def answer_request(measure: MitigationMeasure, answer: str, text: str, by) -> bool:
    """Record the unit's answer to a request (accepted, declined with a reason, done).

    One transaction: the measure is locked (two officers answering at once are applied one
    after the other, each leaving its row in the trail), its current answer is replaced and
    the answer appended to the trail. The same answer with the same text again changes
    nothing and returns False."""
    text = text.strip()
    if answer not in UNIT_ANSWERS:
        raise ValidationError(_("Choose accepted, declined or done."), code="answer")
    if answer == Answer.DECLINED and not text:
        raise ValidationError(_("Say why the request is declined."), code="text")
    with transaction.atomic():
        measure = (
            MitigationMeasure.objects.select_for_update().select_related("plan").get(pk=measure.pk)
        )
        if measure.plan.status != ProtectionPlan.Status.ACTIVE or measure.unit_id is None:
            raise ValidationError(_("This request is no longer open: the plan was replaced."))
        if measure.answer == answer and measure.answer_text == text:
            return False
        now = timezone.now()
        measure.answer, measure.answer_text = answer, text
        measure.answered_by, measure.answered_at = by, now
        measure.save(update_fields=["answer", "answer_text", "answered_by", "answered_at"])
        PlanRequestAnswer.objects.create(
            measure=measure, unit_id=measure.unit_id, answer=answer, text=text, by=by, at=now
        )
        return True
