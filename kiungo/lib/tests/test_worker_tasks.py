"""The worker's task registry: every task each pass, or at most once per period."""

import pytest

from kiungo.lib import worker


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(worker.time, "monotonic", lambda: now[0])
    return now


def test_a_task_with_a_period_runs_once_in_it(clock):
    def often():
        pass

    def rarely():
        pass

    worker.register(often)
    worker.register(every=60)(rarely)
    try:
        assert {often, rarely} <= set(worker.due())
        clock[0] += 30
        assert often in worker.due() and rarely not in worker.due()
        clock[0] += 31
        assert rarely in worker.due()
        assert {often, rarely} <= set(worker.registered())  # listed whatever their turn
    finally:
        worker.unregister(often)
        worker.unregister(rarely)
    assert often not in worker.registered() and rarely not in worker.due()
