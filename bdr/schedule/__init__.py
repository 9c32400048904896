"""The only APScheduler user: jobs from the config, cron triggers, missed-run detection."""
