"""The restic gateway: argv builders, message parsing, outcomes, and the one runner."""
