"""A signal that lands while restic is being started waits until bdr holds restic."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import pytest

from bdr.spawn import interrupts_held


class Stopped(Exception):
    pass


@pytest.fixture
def raising_sigterm():
    def stop(signum: int, frame: FrameType | None) -> None:
        raise Stopped(signum)

    before = signal.signal(signal.SIGTERM, stop)
    yield
    signal.signal(signal.SIGTERM, before)


@pytest.mark.usefixtures("raising_sigterm")
def test_a_signal_inside_the_block_is_raised_as_it_ends():
    reached = []
    with pytest.raises(Stopped), interrupts_held():
        signal.raise_signal(signal.SIGTERM)
        reached.append("the rest of the block")
    assert reached == ["the rest of the block"]


@pytest.mark.usefixtures("raising_sigterm")
def test_the_handlers_are_back_after_the_block():
    sigint = signal.getsignal(signal.SIGINT)
    with interrupts_held():
        pass
    assert signal.getsignal(signal.SIGINT) is sigint
    with pytest.raises(Stopped):
        signal.raise_signal(signal.SIGTERM)


@pytest.mark.usefixtures("raising_sigterm")
def test_a_ctrl_c_inside_the_block_is_a_keyboard_interrupt_as_it_ends():
    with pytest.raises(KeyboardInterrupt), interrupts_held():
        signal.raise_signal(signal.SIGINT)


def test_outside_the_main_thread_the_block_holds_nothing():
    # signal.signal() works only in the main thread; a run of the daemon's starts restic there.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with interrupts_held():
                pass
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert errors == []
