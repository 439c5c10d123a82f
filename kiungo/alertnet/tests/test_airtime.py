"""Airtime: monthly budgets per base, top-ups refused beyond what is left, spending reports."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kiungo.alertnet import assets
from kiungo.alertnet.models import AirtimeBudget, AirtimeTopUp
from kiungo.alertnet.tests.conftest import contact

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)


@pytest.fixture
def budget(world):
    return assets.set_budget(
        base=world.base_beni, month=date(2026, 3, 17), amount=Decimal("50.00"), currency="usd"
    )


def top_up(world, who, amount, on=date(2026, 3, 10), currency="USD", operator="Vodacom"):
    return assets.record_top_up(
        base=world.base_beni,
        contact=who,
        amount=Decimal(amount),
        currency=currency,
        operator=operator,
        on=on,
        by=world.users["manager"],
    )


def test_the_budget_month_is_its_first_day_and_the_currency_upper_case(budget):
    assert budget.month == MARCH and budget.currency == "USD"


def test_top_ups_within_the_budget_then_one_too_many_is_refused_and_not_saved(world, budget):
    who = contact(world, "NK-BEN-001")
    top_up(world, who, "30")
    top_up(world, who, "20")  # exactly what is left
    with pytest.raises(ValidationError, match=r"0\.01 USD is more than the 0\.00 USD left"):
        top_up(world, who, "0.01")
    assert AirtimeTopUp.objects.count() == 2


def test_a_top_up_above_the_remainder_is_refused(world, budget):
    who = contact(world, "NK-BEN-001")
    top_up(world, who, "45")
    with pytest.raises(ValidationError, match=r"more than the 5\.00 USD left"):
        top_up(world, who, "6")
    assert AirtimeTopUp.objects.count() == 1


def test_another_month_has_its_own_budget(world, budget):
    who = contact(world, "NK-BEN-001")
    top_up(world, who, "50")
    with pytest.raises(ValidationError, match="no airtime budget for 2026-04"):
        top_up(world, who, "1", on=date(2026, 4, 1))


def test_bad_input_is_refused(world, budget):
    who = contact(world, "NK-BEN-001")
    with pytest.raises(ValidationError, match="in USD"):
        top_up(world, who, "5", currency="CDF")
    with pytest.raises(ValidationError, match="more than zero"):
        top_up(world, who, "0")
    stranger = contact(world, "SS-001", mission=world.other_mission, home_locality=None)
    with pytest.raises(ValidationError, match="another mission"):
        top_up(world, stranger, "5")
    assert not AirtimeTopUp.objects.exists()


def test_the_budget_cannot_fall_below_what_is_spent(world, budget):
    top_up(world, contact(world, "NK-BEN-001"), "40")
    with pytest.raises(ValidationError, match="already spent"):
        assets.set_budget(base=world.base_beni, month=MARCH, amount=Decimal("39"), currency="USD")
    assets.set_budget(base=world.base_beni, month=MARCH, amount=Decimal("60"), currency="USD")
    assert AirtimeBudget.objects.get().amount == Decimal("60")


def test_the_top_up_reads_the_budget_under_a_row_lock(world, budget):
    """Two top-ups at once cannot spend the same remainder: the budget row is locked first
    (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE transaction is the lock)."""
    who = contact(world, "NK-BEN-001")
    with CaptureQueriesContext(connection) as queries:
        top_up(world, who, "5")
    budget_reads = [q["sql"] for q in queries if "alertnet_airtimebudget" in q["sql"]]
    assert budget_reads
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in budget_reads[0]
        insert = next(i for i, q in enumerate(queries) if q["sql"].startswith("INSERT"))
        lock = next(i for i, q in enumerate(queries) if "FOR UPDATE" in q["sql"])
        assert lock < insert


def test_spending_report_sums_per_operator(world, budget):
    a, b = contact(world, "NK-BEN-001"), contact(world, "NK-BEN-002")
    top_up(world, a, "10", operator="Vodacom")
    top_up(world, b, "7.50", operator="Airtel")
    top_up(world, b, "2.25", operator="Vodacom", on=date(2026, 3, 31))
    report = assets.spending(world.base_beni, date(2026, 3, 20))
    assert report.spent == Decimal("19.75") and report.remaining == Decimal("30.25")
    assert [(line.operator, line.top_ups, line.spent) for line in report.operators] == [
        ("Airtel", 1, Decimal("7.50")),
        ("Vodacom", 2, Decimal("12.25")),
    ]


def test_the_page_refuses_an_over_budget_top_up_with_a_clear_error(client, world, budget):
    who = contact(world, "NK-BEN-001")
    client.force_login(world.users["manager"])
    url = f"/network/bases/{world.base_beni.pk}/airtime/top-ups/"
    data = {"contact": who.pk, "amount": "60", "currency": "USD", "operator": "Vodacom"}
    response = client.post(url, {**data, "on": "2026-03-05"})
    assert response.status_code == 400
    assert "more than the 50.00 USD left" in response.content.decode()
    assert not AirtimeTopUp.objects.exists()
    response = client.post(url, {**data, "amount": "12.5", "on": "2026-03-05"})
    assert response.status_code == 302 and "month=2026-03" in response["Location"]
    assert AirtimeTopUp.objects.get().recorded_by == world.users["manager"]


def test_the_budget_form(client, world):
    client.force_login(world.users["manager"])
    url = f"/network/bases/{world.base_beni.pk}/airtime/budget/"
    assert (
        client.post(url, {"month": "2026-3", "amount": "-1", "currency": "US"}).status_code == 400
    )
    response = client.post(url, {"month": "2026-03", "amount": "80", "currency": "usd"})
    assert response.status_code == 302
    assert AirtimeBudget.objects.get().amount == Decimal("80")


def test_the_csv_is_formula_safe_and_pseudonymous(client, world, budget):
    who = contact(world, "NK-BEN-001")
    top_up(world, who, "10", operator="=HYPERLINK(1)")
    client.force_login(world.users["manager"])
    response = client.get(f"/network/bases/{world.base_beni.pk}/airtime.csv?month=2026-03")
    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["row", "base", "month", "date", "contact", "operator", "amount", "currency"]
    assert rows[1] == [
        "top_up",
        "beni",
        "2026-03",
        "2026-03-10",
        "NK-BEN-001",
        "'=HYPERLINK(1)",
        "10.00",
        "USD",
    ]
    assert ["remaining", "beni", "2026-03", "", "", "", "40.00", "USD"] in rows
    assert ["operator", "beni", "2026-03", "", "", "=HYPERLINK(1)", "10.00", "USD"] not in rows
    assert ["operator", "beni", "2026-03", "", "", "'=HYPERLINK(1)", "10.00", "USD"] in rows
    assert who.phone not in text and "Name of" not in text


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two connections to one database"
)
@pytest.mark.django_db(transaction=True)
def test_two_top_ups_at_once_cannot_spend_the_same_remainder(world, monkeypatch):
    """Both top-ups fit the remainder alone, not together. Each waits (at most a second) for
    the other just before reading what is spent: without the budget row lock both would read
    0 and both be saved; with it, the second is held at the lock until the first commits."""
    import contextlib
    import threading

    from django.db import connections

    assets.set_budget(base=world.base_beni, month=MARCH, amount=Decimal("50"), currency="USD")
    who = contact(world, "NK-BEN-001")
    both_reading = threading.Barrier(2, timeout=1)
    spent = assets._spent

    def spent_when_both_read(base, month):
        with contextlib.suppress(threading.BrokenBarrierError):  # the other is held at the lock
            both_reading.wait()
        return spent(base, month)

    monkeypatch.setattr(assets, "_spent", spent_when_both_read)
    outcomes = []

    def attempt():
        try:
            top_up(world, who, "30")
            outcomes.append("saved")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "saved"]
    assert AirtimeTopUp.objects.count() == 1
