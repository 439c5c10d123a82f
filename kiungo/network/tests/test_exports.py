"""Exports: the pseudonymised CSV carries no identity; the identity export is refused to all
but the authorised role, and every request is recorded."""

import csv
import io

from django.urls import reverse

from kiungo.network.models import Contact, SourceAccess

from .conftest import BENI_NAME, BENI_PHONE, BUNIA_NAME, make_contact

REASON = "Handover of the Beni network to the new CLA"


def rows(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_is_pseudonymised(client, world, contacts):
    client.force_login(world.users["administrator"])
    response = client.get(reverse("contact-csv"))
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    table = rows(response)
    assert table[0][0] == "code" and table[1][0] == "#contact+code"  # HXL tags
    codes = [row[0] for row in table[2:]]
    assert codes == ["IT-BUN-001", "NK-BEN-001", "NK-BEN-002", "NK-BEN-003"]
    for secret in (BENI_NAME, BUNIA_NAME, "970001001", "970001099", "970002001"):
        assert secret not in text


def test_the_csv_follows_scope_and_filters(client, world, contacts):
    client.force_login(world.users["cla"])
    codes = [row[0] for row in rows(client.get(reverse("contact-csv")))[2:]]
    assert codes == ["NK-BEN-001", "NK-BEN-002", "NK-BEN-003"]
    filtered = rows(client.get(reverse("contact-csv"), {"category": "youth"}))
    assert filtered[2:] == []


def test_the_csv_is_formula_safe(client, world, contacts):
    Contact.objects.filter(pk=contacts.beni.pk).update(language="=cmd")
    client.force_login(world.users["administrator"])
    table = rows(client.get(reverse("contact-csv")))
    beni = next(row for row in table if row[0] == "NK-BEN-001")
    assert beni[3] == "'=cmd"


def test_the_identity_export_is_refused_and_recorded(client, world, contacts):
    for name in ("manager", "cla", "cla_bunia"):
        client.force_login(world.users[name])
        response = client.post(
            reverse("contact-identities"), {"mission": world.mission.pk, "reason": REASON}
        )
        assert response.status_code == 403, name
        assert BENI_NAME not in response.content.decode()
    refused = SourceAccess.objects.filter(
        action=SourceAccess.Action.EXPORT_IDENTITIES, granted=False
    )
    assert sorted(access.user.username for access in refused) == ["cla", "cla_bunia", "manager"]


def test_the_administrator_exports_identities_audited(client, world, contacts):
    client.force_login(world.users["administrator"])
    response = client.post(
        reverse("contact-identities"), {"mission": world.mission.pk, "reason": REASON}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    table = rows(response)
    beni = next(row for row in table if row[0] == "NK-BEN-001")
    assert beni[1] == BENI_NAME and BENI_PHONE in beni[2]
    access = SourceAccess.objects.get()
    assert access.granted and access.count == 4 and access.reason == REASON


def test_the_identity_export_needs_a_reason(client, world, contacts):
    client.force_login(world.users["administrator"])
    response = client.post(reverse("contact-identities"), {"mission": world.mission.pk})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert not SourceAccess.objects.exists()


def test_an_identity_is_formula_safe_in_the_export(client, world, contacts):
    make_contact(world, "NK-BEN-004", world.beni, "+243970001004", "=HYPERLINK(1)")
    client.force_login(world.users["administrator"])
    table = rows(
        client.post(reverse("contact-identities"), {"mission": world.mission.pk, "reason": REASON})
    )
    assert next(row for row in table if row[0] == "NK-BEN-004")[1] == "'=HYPERLINK(1)"


def test_permission_matrix_of_the_identity_export(client, world, contacts):
    url = reverse("contact-identities")
    wrong = []
    for name in world.users:
        client.force_login(world.users[name])
        status = client.post(url, {"mission": world.mission.pk, "reason": REASON}).status_code
        if status != (200 if name == "administrator" else 403):
            wrong.append(f"{name}: {status}")
    assert not wrong
