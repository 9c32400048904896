"""The metrics endpoint's gate: idle connections never keep a scrape out (pure logic, with
stand-in connections and an injected clock)."""

from __future__ import annotations

from bdr.metrics.exporter import HEADER_TIMEOUT, MAX_CONNECTIONS, PER_ADDRESS, Gate


class Connection:
    def __init__(self) -> None:
        self.closed = False

    def shutdown(self, how: int) -> None:
        self.closed = True


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_connections_make_room_for_a_new_one_oldest_first():
    clock = Clock()
    gate = Gate(clock)
    idle = [Connection() for _ in range(40)]
    for index, connection in enumerate(idle):
        clock.now += 0.01
        assert gate.admit(connection, "10.0.0.9")
        # One address holds at most PER_ADDRESS: each newcomer closes its oldest silent one.
        assert len(gate) == min(index + 1, PER_ADDRESS)
    assert [c.closed for c in idle] == [True] * (40 - PER_ADDRESS) + [False] * PER_ADDRESS
    scrape = Connection()
    assert gate.admit(scrape, "10.0.0.9") and not scrape.closed
    assert idle[40 - PER_ADDRESS].closed  # the oldest still open made room


def test_when_full_the_oldest_silent_connection_anywhere_goes():
    clock = Clock()
    gate = Gate(clock)
    many = [Connection() for _ in range(MAX_CONNECTIONS)]
    for index, connection in enumerate(many):
        assert gate.admit(connection, f"10.0.0.{index}")
    gate.spoke(many[0])  # a request in progress is never closed for room
    newcomer = Connection()
    assert gate.admit(newcomer, "10.0.1.1")
    assert not many[0].closed and many[1].closed


def test_no_room_when_every_connection_is_a_request_in_progress():
    gate = Gate(Clock())
    busy = [Connection() for _ in range(MAX_CONNECTIONS)]
    for index, connection in enumerate(busy):
        assert gate.admit(connection, f"10.0.0.{index}")
        gate.spoke(connection)
    assert not gate.admit(Connection(), "10.0.1.1")
    gate.release(busy[0])
    assert gate.admit(Connection(), "10.0.1.1")


def test_a_silent_connection_is_closed_after_the_header_timeout():
    clock = Clock()
    gate = Gate(clock)
    silent, talking = Connection(), Connection()
    gate.admit(silent, "10.0.0.1")
    gate.admit(talking, "10.0.0.2")
    gate.spoke(talking)
    clock.now += HEADER_TIMEOUT - 0.1
    gate.reap()
    assert not silent.closed
    clock.now += 0.2
    gate.reap()
    assert silent.closed and not talking.closed
    assert len(gate) == 1
