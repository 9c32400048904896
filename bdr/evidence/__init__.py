"""Tamper-evident evidence: a hash chain of every run, signed with the appliance's key."""
