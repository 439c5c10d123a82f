"""Smoke test of the benchmark's baseline view (its URL exists only with KIUNGO_BENCH=1)."""

import pytest
from django.urls import NoReverseMatch, reverse

from kiungo.bench.models import BareRow
from kiungo.lib.env import env_bool

FORM = {"from": "+243970001001", "to": "+243990000101", "text": "t", "id": "b1", "date": "d"}


@pytest.mark.urls("kiungo.bench.urls")
def test_bare_inserts_one_row(client, db):
    assert client.post("/bench/bare", FORM).status_code == 200
    assert BareRow.objects.get().message_id == "b1"
    assert client.post("/bench/bare", {"from": "x"}).status_code == 400
    assert client.get("/bench/bare").status_code == 405


@pytest.mark.skipif(env_bool("KIUNGO_BENCH"), reason="KIUNGO_BENCH=1 routes it on purpose")
def test_bare_is_not_routed_by_default():
    with pytest.raises(NoReverseMatch):
        reverse("bench:bare")
