import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kiungo.forces.models import Base, DutyPhone, ResponsibilityArea, Unit
from kiungo.geography.models import Area


def test_a_unit_cannot_report_to_itself_or_below(world):
    world.battalion_a.parent = world.company_beni
    with pytest.raises(ValidationError, match=r"higher kind|report to itself"):
        world.battalion_a.full_clean()
    world.battalion_a.refresh_from_db()
    world.sector_north.parent = world.sector_north
    with pytest.raises(ValidationError, match="itself"):
        world.sector_north.full_clean()


def test_a_unit_chain_stays_in_its_mission(world):
    stray = Unit(
        mission=world.other_mission,
        code="x",
        name="X",
        kind=Unit.Kind.SECTOR,
        parent=world.force_hq,
    )
    with pytest.raises(ValidationError, match="another mission"):
        stray.full_clean()


def test_the_database_refuses_a_parentless_company(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(mission=world.mission, code="orphan", name="O", kind=4)


def test_chain_and_subordinates(world):
    assert world.company_beni.chain() == [
        world.company_beni,
        world.battalion_a,
        world.sector_north,
        world.force_hq,
    ]
    assert world.company_beni.superior(Unit.Kind.SECTOR) == world.sector_north
    assert world.battalion_a.subordinate_ids() == {
        world.battalion_a.pk,
        world.company_beni.pk,
        world.company_butembo.pk,
    }


def test_a_contingent_is_an_iso_country(world):
    world.battalion_a.contingent = "XX"
    with pytest.raises(ValidationError, match="ISO 3166"):
        world.battalion_a.full_clean()


@pytest.mark.parametrize("number", ["0991234567", "+243 99 123 4567", "+2431", "hello"])
def test_duty_phones_are_stored_in_e164(world, number):
    phone = DutyPhone(unit=world.company_bunia, number=number)
    with pytest.raises(ValidationError):
        phone.full_clean()


def test_the_database_refuses_a_malformed_or_shared_duty_phone(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        DutyPhone.objects.create(unit=world.company_bunia, number="0991234567")
    with pytest.raises(IntegrityError), transaction.atomic():
        DutyPhone.objects.create(unit=world.company_bunia, number="+243991234567")


def test_an_aor_cannot_overlap_another_base(world):
    beni_sector = Area.objects.get(pcode="CD610101")
    for area in [world.beni_territory, beni_sector, world.north_kivu]:
        held = ResponsibilityArea(base=world.base_bunia, area=area)
        with pytest.raises(ValidationError, match="overlaps"):
            held.full_clean()


def test_the_database_refuses_the_same_area_twice(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        ResponsibilityArea.objects.create(base=world.base_bunia, area=world.beni_territory)


def test_an_aor_stays_in_its_mission(world):
    held = ResponsibilityArea(base=world.other_base, area=world.ituri)
    with pytest.raises(ValidationError, match="another mission"):
        held.full_clean()


def test_a_base_cannot_close_before_it_opens(world):
    base = Base.objects.get(pk=world.base_beni.pk)
    base.opened_on, base.closed_on = "2024-05-01", "2024-04-01"
    with pytest.raises(IntegrityError), transaction.atomic():
        base.save()
