"""Search across reports and alerts: full text (FTS5 / PostgreSQL), filters, and never a
result the user may not open."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from kiungo.lib.testing import check_matrix
from kiungo.missions.models import ArmedActor
from kiungo.reports import search, writing
from kiungo.reports.models import Kind, Report
from kiungo.reports.search import Criteria
from kiungo.reports.tests.conftest import alert_in, submitted_report

pytestmark = pytest.mark.django_db


def found(user, **criteria):
    results = search.search(user, Criteria(**criteria))
    return {r.pk for r in results.reports}, {a.pk for a in results.alerts}


def test_words_find_reports_and_alerts_whatever_the_accents(world, cla, cla_bunia, frozen):
    beni = submitted_report(cla, security="Déplacés nombreux à Mavivi après l'attaque.")
    bunia = submitted_report(cla_bunia, security="Situation calme.")
    alert = alert_in(world, world.beni)  # "Attaque signalée"
    ewo = world.users["ewo"]
    assert found(ewo, text="deplaces mavivi") == ({beni.pk}, set())
    assert found(ewo, text="attaq") == ({beni.pk}, {alert.pk})  # a prefix, both kinds
    assert found(ewo, text="calme") == ({bunia.pk}, set())
    assert found(ewo, text='calme" OR "x') == (set(), set())  # no FTS syntax gets through


def test_a_revision_is_searched_as_revised(world, cla, frozen):
    report = submitted_report(cla, security="Premier texte.")
    writing.review(report, user=world.users["manager"], accept=False, comment="Précisez.")
    writing.save_draft(report, writing.Changes(sections={"security": "Texte corrigé."}))
    ewo = world.users["ewo"]
    assert found(ewo, text="premier") == (set(), set())
    assert found(ewo, text="corrige")[0] == {report.pk}


def test_filters(world, cla, cla_bunia, frozen):
    today = submitted_report(cla, security="Marché.")
    old = submitted_report(cla_bunia, day=date(2025, 3, 3), security="Marché.")
    weekly = submitted_report(
        cla, day=date(2025, 3, 3), kind=Kind.WEEKLY, trends="Marché.", threats="ADF."
    )
    alert = alert_in(world, world.bunia, threat="abduction")
    ewo = world.users["ewo"]
    assert found(ewo, text="marche", area=world.north_kivu)[0] == {today.pk, weekly.pk}
    assert found(ewo, base=world.base_bunia)[0] == {old.pk}
    assert found(ewo, first_day=date(2025, 3, 10))[0] == {today.pk}
    assert found(ewo, last_day=date(2025, 3, 5))[0] == {old.pk, weekly.pk}
    assert found(ewo, type=Kind.WEEKLY) == ({weekly.pk}, set())
    assert found(ewo, type="alert") == (set(), {alert.pk})
    assert found(ewo, threat="abduction") == (set(), {alert.pk})
    assert found(ewo, area=world.ituri)[1] == {alert.pk}
    assert found(ewo, first_day=date(2025, 3, 13))[1] == set()


def test_by_armed_actor(world, cla, frozen):
    actor = ArmedActor.objects.create(mission=world.mission, name="ADF")
    flash = writing.start_report(cla=cla, kind=Kind.FLASH, occurred_at=frozen_time())
    writing.save_draft(
        flash,
        writing.Changes(
            sections={"what": "Attaque."},
            perpetrator_ids=[actor.pk],
            flash={"area": world.beni},
        ),
    )
    writing.submit(flash, user=cla.user)
    submitted_report(cla, security="Attaque.")
    assert found(world.users["ewo"], actor=actor) == ({flash.pk}, set())


def frozen_time():
    from django.utils import timezone

    return timezone.now() - timedelta(hours=1)


def test_never_shows_what_the_user_may_not_see(world, cla, cla_bunia, frozen):
    draft = writing.start_report(cla=cla, kind=Kind.DAILY)
    writing.save_draft(draft, writing.Changes(sections={"security": "Secret brouillon."}))
    bunia = submitted_report(cla_bunia, security="Secret Bunia.")
    cla_bunia.supervisor = None
    cla_bunia.save()
    alert_in(world, world.bunia)  # "Attaque signalée", in Ituri
    assert found(world.users["ewo"], text="secret")[0] == {bunia.pk}  # not the draft
    assert found(world.users["cla"], text="secret")[0] == {draft.pk}  # their own draft
    manager = type(world.users["manager"]).objects.get(pk=world.users["manager"].pk)
    assert found(manager, text="secret") == (set(), set())  # Nord-Kivu only
    assert found(manager, text="attaque") == (set(), set())
    assert found(world.users["other_ewo"], text="secret") == (set(), set())
    assert found(world.users["duty"], text="secret")[0] == set()


def test_the_page(client, world, cla, frozen):
    report = submitted_report(cla, security="Déplacés à Mavivi.")
    client.force_login(world.users["ewo"])
    page = client.get(reverse("search"), {"q": "mavivi"}).content.decode()
    assert reverse("report-detail", args=[report.pk]) in page
    error = client.get(reverse("search"), {"first_day": "2025-03-12", "last_day": "2025-03-01"})
    assert "The period ends before it starts." in error.content.decode()


def test_permission_matrix(client, world):
    readers = {
        "administrator",
        "leadership",
        "analyst",
        "ewo",
        "manager",
        "duty",
        "cla",
        "cla_bunia",
        "other_ewo",
    }
    check_matrix(client, world, reverse("search") + "?q=x", readers)
    assert Report.objects.count() == 0


def test_the_index_triggers_survive_the_migrations():
    """On SQLite, a later migration that rebuilds reports_report or alerts_alert (Django copies
    the table) drops its triggers: the index would silently go stale. Re-create them then."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite triggers")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%fts%'"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert names == {
        f"{table}_fts_{event}"
        for table in ("reports_report", "alerts_alert")
        for event in ("insert", "update", "delete")
    }
