"""Helpers shared by the gateway tests: fixtures on disk, a fake HTTP seam, raw DB checks."""

import json
from pathlib import Path

import requests
from django.db import connection
from django.http import QueryDict

from kiungo.messaging.models import Channel, InboundMessage, OutboundMessage, Purpose


def fixture(test_file: str, name: str) -> str:
    """The text of tests/fixtures/<name> next to `test_file` (pass __file__)."""
    return (Path(test_file).parent / "fixtures" / name).read_text(encoding="utf-8").strip()


def form(body: str, /, **changes) -> str:
    """A form body with fields changed (None removes one), re-encoded as a gateway sends it."""
    fields = QueryDict(body, mutable=True)
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields.urlencode()


def form_dict(text: str) -> dict:
    return QueryDict(text).dict()


def url(channel: Channel, name: str = "receive") -> str:
    return f"/sms/{channel.kind}/{channel.uuid}/{name}"


def make_channel(mission, kind: str, phone_number: str = "", **config) -> Channel:
    channel = Channel.objects.create(
        mission=mission, kind=kind, name=f"{kind} Beni", phone_number=phone_number
    )
    channel.set_config(**config)
    channel.save()
    return channel


def outbound(
    channel: Channel,
    *,
    to="+243997000123",
    state="queued",
    external_id="",
    text="",
    purpose=Purpose.ALERT,
):
    return OutboundMessage.objects.create(
        channel=channel,
        to=to,
        to_hash="test",
        text=text or "Kiungo: message reçu. Merci.",
        state=state,
        external_id=external_id,
        purpose=purpose,
    )


def raw_inbound_rows() -> list[tuple]:
    """Every inbound row as the database holds it (encrypted columns still encrypted)."""
    table = InboundMessage._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 -- a model's own table name
        return cursor.fetchall()


def assert_number_not_in_clear(number: str) -> None:
    """The national digits of `number` appear in no column of any stored inbound SMS."""
    digits = number.lstrip("+")[-9:]
    rows = raw_inbound_rows()
    assert rows, "nothing stored"
    for row in rows:
        assert digits not in " ".join(str(value) for value in row)


def response(status: int, payload=None, text: str = "") -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    if payload is not None:
        answer._content = json.dumps(payload).encode()
        answer.headers["Content-Type"] = "application/json"
    else:
        answer._content = text.encode()
    return answer


class FakePost:
    """Stands in for kiungo.messaging.http.post: records calls, answers or raises as told."""

    def __init__(self, answer):
        self.answer = answer
        self.calls: list[dict] = []

    def __call__(self, url, **kwargs):
        self.calls.append({"url": url, **kwargs})
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def fake_post(monkeypatch, answer) -> FakePost:
    fake = FakePost(answer)
    monkeypatch.setattr("kiungo.messaging.http.post", fake)
    return fake
