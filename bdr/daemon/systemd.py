"""sd_notify without libsystemd: READY, STATUS, WATCHDOG and STOPPING to systemd."""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("bdr.daemon")


class Systemd:
    """One datagram per message to $NOTIFY_SOCKET; nothing when systemd did not start bdr."""

    def __init__(self) -> None:
        address = os.environ.get("NOTIFY_SOCKET", "")
        # An address starting with "@" is in the abstract namespace.
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = os.environ.get("WATCHDOG_USEC", "")
        self.watchdog_interval = int(usec) / 2e6 if usec.isdigit() else None

    def send(self, message: str) -> None:
        if not self.address:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto(message.encode(), self.address)
            except OSError as error:
                log.warning("cannot notify systemd: %s", error)
