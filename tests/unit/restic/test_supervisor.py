"""The supervisor's two-step stop, on stand-in processes: no process runs."""

from __future__ import annotations

import signal
import threading

import pytest

from bdr.errors import Interrupted
from bdr.restic.supervisor import Supervisor


class Process:
    """A started process as the supervisor sees it: a pid, whether it ended, signals."""

    def __init__(self, pid: int, *, running: bool = True) -> None:
        self.pid = pid
        self.running = running
        self.signals: list[int] = []

    def poll(self) -> int | None:
        return None if self.running else 0

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)


def test_stop_interrupts_every_held_process_that_still_runs():
    supervisor = Supervisor()
    running, ended = Process(101), Process(102, running=False)
    supervisor.hold(running)
    supervisor.hold(ended)
    assert supervisor.stop() == 2
    assert running.signals == [signal.SIGINT] and ended.signals == []
    assert supervisor.release(running) is True, "its run ends as interrupted"
    assert supervisor.release(ended) is False


def test_a_process_held_as_the_stop_runs_is_interrupted_at_once():
    supervisor = Supervisor()
    supervisor.stop()
    late = Process(103)
    supervisor.hold(late)
    assert late.signals == [signal.SIGINT]
    with pytest.raises(Interrupted, match="no new restic"):
        supervisor.refuse_if_stopping("no new restic is started")


def test_drain_ends_waits_but_lets_running_restic_go_on():
    supervisor = Supervisor()
    process = Process(104)
    supervisor.hold(process)
    woke = threading.Event()

    def queued() -> None:
        if supervisor.wait(60):
            woke.set()

    waiter = threading.Thread(target=queued)
    waiter.start()
    supervisor.drain()
    waiter.join(5)
    assert woke.is_set(), "the wait ended at the drain, not after its 60 s"
    assert process.signals == [] and not supervisor.stopping
    supervisor.refuse_if_stopping("anything")  # a running run may still start restic


def test_a_released_pid_is_not_found_again():
    """A pid that was waited for may be reused by another program: it never gets a signal."""
    supervisor = Supervisor()
    process = Process(105)
    supervisor.hold(process)
    supervisor.release(process)
    assert supervisor.live(105) is None
    supervisor.stop()
    assert process.signals == []


def test_waits_time_out_without_a_stop():
    assert Supervisor().wait(0.01) is False
    assert Supervisor().wait_stopped(0.01) is False
