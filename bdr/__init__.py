"""bdr: the software of a backup-and-disaster-recovery appliance built on restic."""

__version__ = "0.1.0"
