"""What `manage.py worker` runs on every iteration, besides sending the outbox.

A task is a function without arguments that does a bounded amount of due work (claiming rows
with a conditional UPDATE, as messaging/delivery.py does) and returns. Register it once, at
import time of a module an app's `ready()` imports:

    from kiungo.lib import worker

    @worker.register
    def escalate_missed_deadlines(): ...

    @worker.register(every=60)  # at most once a minute per worker process
    def remind_reporters(): ...

A task that raises is logged and the loop goes on; the next iteration calls it again.
"""

import time
from collections.abc import Callable

Task = Callable[[], object]

_tasks: list[Task] = []
_every: dict[Task, float] = {}  # seconds at least between two runs in one process
_next_run: dict[Task, float] = {}


def register(task: Task | None = None, *, every: float = 0.0):
    """Add `task` to every worker iteration (once, however often it is registered).

    `every`: run it at most once in that many seconds per worker process, for work counted in
    minutes or days (reminders, network health) that need not be polled every second. Used
    bare (`@worker.register`) or with the option (`@worker.register(every=60)`).
    """
    if task is None:
        return lambda function: register(function, every=every)
    if task not in _tasks:
        _tasks.append(task)
    if every:
        _every[task] = every
    return task


def unregister(task: Task) -> None:
    if task in _tasks:
        _tasks.remove(task)
    _every.pop(task, None)
    _next_run.pop(task, None)


def registered() -> tuple[Task, ...]:
    return tuple(_tasks)


def due() -> tuple[Task, ...]:
    """The registered tasks to run in this iteration (those with `every` once in their period)."""
    now = time.monotonic()
    tasks = []
    for task in _tasks:
        if task in _every:
            if now < _next_run.get(task, 0.0):
                continue
            _next_run[task] = now + _every[task]
        tasks.append(task)
    return tuple(tasks)
