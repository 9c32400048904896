"""Pure logic of restore drills: sampling, verification, RTO projection and verdicts."""
