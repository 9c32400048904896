"""Notifications: problems (not events) opened, reminded and resolved, delivered through an
outbox in the history with Apprise."""
