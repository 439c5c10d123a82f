"""What `manage.py worker` runs on every iteration, besides sending the outbox.

A task is a function without arguments that does a bounded amount of due work (claiming rows
with a conditional UPDATE, as messaging/delivery.py does) and returns. Register it once, at
import time of a module an app's `ready()` imports:

    from kiungo.lib import worker

    @worker.register
    def escalate_missed_deadlines(): ...

A task that raises is logged and the loop goes on; the next iteration calls it again.
"""

from collections.abc import Callable

Task = Callable[[], object]

_tasks: list[Task] = []


def register(task: Task) -> Task:
    """Add `task` to every worker iteration (once, however often it is registered)."""
    if task not in _tasks:
        _tasks.append(task)
    return task


def unregister(task: Task) -> None:
    if task in _tasks:
        _tasks.remove(task)


def registered() -> tuple[Task, ...]:
    return tuple(_tasks)
