"""Case 5: `docker restart` of an appliance in the middle of a backup: the run is recorded
interrupted, restic's stale lock is healed, the next backup succeeds, no scratch is left."""

from __future__ import annotations

from tests.fleet import engine
from tests.fleet.conftest import Fleet, container

C = "appliance-c"


def _locks(fleet: Fleet) -> list[str]:
    return fleet.exec(C, "ls", "/srv/bdr/repo/locks", user="bdr").stdout.split()


def _daemon_alive(fleet: Fleet) -> bool:
    status = fleet.exec(C, "bdr", "--json", "status", user="bdr", expect=None)
    return status.returncode == 0 and '"alive": true' in status.stdout


def test_a_restart_in_the_middle_of_a_backup(fleet: Fleet):
    fleet.bdr(C, "init")
    fleet.bdr(C, "backup")
    # New data, so that the next backup is still reading when the appliance restarts.
    fleet.exec(C, "sh", "-c", "head -c 300000000 /dev/urandom > /srv/share/db/new.dat")
    backup = fleet.start(C, "backup")
    fleet.wait_line(backup, "backing up plan share")
    fleet.wait_for("the backup's restic lock", lambda: _locks(fleet) != [], timeout=60)
    engine.docker("restart", "-t", "20", container(C))
    backup.communicate(timeout=120)
    assert backup.returncode != 0
    # Killed with the container, restic left its lock; bdr is not running yet (the appliance
    # is still installing itself).
    assert _locks(fleet), "the killed backup left no lock to heal"
    # Once installed again, the daemon's start removes the stale lock (restic unlock).
    fleet.wait_for("the stale lock removed", lambda: _locks(fleet) == [], timeout=300)
    fleet.wait_for("the daemon back", lambda: _daemon_alive(fleet), timeout=120)
    local = {row["repository"]: row for row in fleet.bdr_json(C, "status")["plans"]}["local"]
    assert local["last_run"]["status"] == "interrupted", local
    fleet.bdr(C, "backup")
    assert fleet.exec(C, "find", "/srv/bdr/scratch", "-mindepth", "1").stdout == ""
