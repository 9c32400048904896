"""Judging each backup clean or suspect of ransomware, from what restic and the live tree give.

Pure: the action (bdr/actions/detect.py) reads restic's diff and the sampled files' first
bytes, and hands them here. `score.judge` is the one place that decides.
"""
