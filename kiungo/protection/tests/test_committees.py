"""Committees per locality: members by category and sex (no names), the share of women,
meetings and trainings; recorded by the CLAs of the base covering the locality."""

import pytest
from django.urls import reverse

from kiungo.protection.models import Committee, CommitteeMeeting, CommitteeMember, CommitteeTraining
from kiungo.protection.selectors import committees

pytestmark = pytest.mark.django_db


def test_the_share_of_women_counts_active_members(committee):
    assert committee.women_share() == 0.5
    CommitteeMember.objects.create(committee=committee, category="teacher", sex="f")
    assert committee.women_share() == 0.6
    committee.members.filter(sex="f").update(active=False)
    assert committee.women_share() == 0
    committee.members.all().delete()
    assert committee.women_share() is None


def test_the_list_and_page_show_the_share_of_women(client, world, committee):
    CommitteeMember.objects.create(committee=committee, category="teacher", sex="f")
    row = next(row for row in committees(world.users["manager"]) if row.pk == committee.pk)
    assert (row.member_count, row.women_count) == (5, 3)
    client.force_login(world.users["manager"])
    assert "60&nbsp;%" in client.get(reverse("committees")).content.decode()
    page = client.get(reverse("committee-detail", args=[committee.pk])).content.decode()
    assert "60&nbsp;%" in page and "Women&#x27;s representative" in page


def test_a_member_has_no_name_field():
    names = {field.name for field in CommitteeMember._meta.get_fields()}
    assert not names & {"name", "first_name", "last_name", "phone"}


def test_the_cla_records_a_committee_in_their_area(client, world):
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("committee-new"),
        {
            "name": "CLP Beni-Centre",
            "language": "fr",
            "created_on": "2025-06-01",
            "status": "active",
            "locality_name": "Beni",
        },
    )
    committee = Committee.objects.get(name="CLP Beni-Centre")
    assert response.status_code == 302 and committee.locality == world.beni
    assert committee.mission == world.mission


def test_a_locality_outside_the_cla_area_is_not_found(client, world):
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("committee-new"),
        {
            "name": "CLP Bunia",
            "language": "fr",
            "created_on": "2025-06-01",
            "status": "active",
            "locality_name": "Bunia",
        },
    )
    assert response.status_code == 400
    assert "No place in your area is called: Bunia." in response.content.decode()
    assert not Committee.objects.exists()


def test_members_meetings_and_trainings_are_recorded(client, world, committee):
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("member-add", args=[committee.pk]),
        {"position": "secretary", "category": "health_worker", "sex": "f"},
    )
    assert response.status_code == 302
    assert committee.members.filter(position="secretary", sex="f").exists()
    response = client.post(
        reverse("meeting-add", args=[committee.pk]),
        {
            "held_on": "2026-11-02",
            "women": "6",
            "men": "9",
            "topics": "Sécurité du marché",
            "decisions": "Alerte par sifflet",
        },
    )
    assert response.status_code == 302
    meeting = CommitteeMeeting.objects.get()
    assert (meeting.total, meeting.recorded_by) == (15, world.users["cla"])
    response = client.post(
        reverse("training-add", args=[committee.pk]),
        {
            "held_on": "2026-10-12",
            "topic": "Alerte précoce",
            "facilitator": "Section des affaires civiles",
            "women": "4",
            "men": "3",
        },
    )
    assert response.status_code == 302 and CommitteeTraining.objects.get().total == 7
    member = committee.members.first()
    client.post(reverse("member-leave", args=[committee.pk, member.pk]))
    member.refresh_from_db()
    assert not member.active


def test_a_meeting_without_attendance_is_refused(client, world, committee):
    client.force_login(world.users["cla"])
    response = client.post(
        reverse("meeting-add", args=[committee.pk]),
        {"held_on": "2026-11-02", "women": "0", "men": "0", "topics": "x"},
    )
    assert response.status_code == 400
    assert "Give the number of women and men who attended." in response.content.decode()
    assert not CommitteeMeeting.objects.exists()


def test_a_cla_of_another_base_cannot_record_for_this_committee(client, world, committee):
    client.force_login(world.users["cla_bunia"])
    response = client.post(
        reverse("member-add", args=[committee.pk]),
        {"position": "member", "category": "youth", "sex": "m"},
    )
    assert response.status_code == 404
    assert committee.members.count() == 4


def test_a_committee_belongs_to_a_locality_of_its_mission(world):
    from django.core.exceptions import ValidationError

    for locality, mission in (
        (world.beni_territory, world.mission),
        (world.beni, world.other_mission),
    ):
        committee = Committee(
            mission=mission, locality=locality, name="CLP", created_on="2025-01-01"
        )
        with pytest.raises(ValidationError):
            committee.full_clean()
