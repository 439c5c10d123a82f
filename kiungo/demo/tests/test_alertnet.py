"""The demo's alert networks: there, consistent with the rules, idempotent, pseudonymous."""

from django.db.models import Sum

from kiungo.alertnet import assets
from kiungo.alertnet.coverage import coverage_of
from kiungo.alertnet.models import (
    AirtimeBudget,
    IssuedPhone,
    NetworkTest,
    RadioStation,
    SecurityEvent,
    SilenceNotice,
)
from kiungo.demo import alertnet
from kiungo.forces.models import Base


def test_the_summary_line(demo_output):
    assert "Demo alert networks: 11 MONUSCO bases, 11 radio stations" in demo_output


def test_networks_of_the_north_kivu_bases(monusco):
    assert RadioStation.objects.filter(base__mission=monusco).count() == 11
    assert NetworkTest.objects.filter(base__mission=monusco).count() == 11
    stolen = IssuedPhone.objects.get(status=IssuedPhone.Status.STOLEN)
    assert stolen.contact.code == alertnet.STOLEN_PHONE
    assert SecurityEvent.objects.get().phone == stolen
    for phone in IssuedPhone.objects.all():
        assets.normalise_imei(phone.imei)  # valid IMEIs
        assert phone.imei_tail == phone.imei[-4:]


def test_top_ups_stay_within_each_budget(monusco):
    for budget in AirtimeBudget.objects.filter(base__mission=monusco):
        report = assets.spending(budget.base, budget.month)
        assert 0 < report.spent <= budget.amount
    assert AirtimeBudget.objects.aggregate(total=Sum("amount"))["total"] > 0


def test_covered_and_uncovered_localities_and_silent_contacts(monusco):
    bases = list(Base.objects.filter(mission=monusco, closed_on__isnull=True))
    coverage = coverage_of(bases)
    assert coverage.covered and coverage.uncovered
    assert SilenceNotice.objects.filter(contact__mission=monusco).exists()


def test_a_second_run_changes_nothing(monusco):
    before = RadioStation.objects.count(), SilenceNotice.objects.count()
    assert alertnet.ensure(2026).already
    assert (RadioStation.objects.count(), SilenceNotice.objects.count()) == before


def test_the_pages_show_pseudonyms_only(client, monusco):
    from kiungo.network.models import Contact
    from kiungo.people.models import User

    beni = Base.objects.get(mission=monusco, code="beni")
    client.force_login(User.objects.get(username="manager"))
    pages = "".join(
        client.get(url).content.decode()
        for url in [
            "/network/",
            f"/network/bases/{beni.pk}/",
            f"/network/bases/{beni.pk}/health/",
            f"/network/bases/{beni.pk}/phones/",
            f"/network/bases/{beni.pk}/airtime/",
        ]
    )
    assert "NK-BEN-001" in pages
    for contact in Contact.objects.filter(mission=monusco):
        assert contact.name not in pages and contact.phone not in pages
