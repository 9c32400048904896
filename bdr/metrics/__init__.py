"""Prometheus metrics over the history store: the collector and its exporters."""
