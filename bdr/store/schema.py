"""The history schema, as an ordered list of forward migrations.

A database at version N has run migrations[0:N]. New releases append; they never edit an
existing step, so every appliance in the field upgrades along the same path.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: runs and what status needs between runs.
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        plan TEXT,
        repository TEXT,
        subject TEXT,
        status TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        pid_start TEXT,
        snapshot_id TEXT,
        exit_code INTEGER,
        error TEXT,
        bytes_added INTEGER,
        bytes_processed INTEGER,
        files_processed INTEGER,
        details TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX runs_by_kind ON runs (kind, plan, repository, started_at);
    CREATE INDEX runs_by_status ON runs (status);
    CREATE TABLE latest_snapshots (
        plan TEXT NOT NULL,
        repository TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        snapshot_time REAL NOT NULL,
        recorded_at REAL NOT NULL,
        PRIMARY KEY (plan, repository)
    );
    """,
    # 2: where each repository's rotating read check goes next.
    """
    CREATE TABLE check_state (
        repository TEXT PRIMARY KEY,
        next_subset INTEGER NOT NULL,
        cycle INTEGER NOT NULL
    );
    """,
    # 3: the daemon's schedule (next and last runs of each job) and its heartbeat.
    """
    CREATE TABLE schedule (
        job_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        cron TEXT NOT NULL,
        next_run REAL,
        last_fire REAL
    );
    CREATE TABLE daemon (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 4: indexes for the metrics collector, which reads on every scrape.
    """
    CREATE INDEX runs_by_kind_status ON runs (kind, status);
    CREATE INDEX runs_by_subject ON runs (kind, subject);
    CREATE INDEX runs_by_repository ON runs (kind, repository);
    """,
    # 5: the time of the snapshot a drill tested, as a column: the verified RPO is its maximum.
    """
    ALTER TABLE runs ADD COLUMN snapshot_time REAL;
    UPDATE runs SET snapshot_time = json_extract(details, '$.snapshot_time')
        WHERE kind = 'drill';
    CREATE INDEX runs_by_snapshot_time ON runs (kind, plan, repository, snapshot_time);
    """,
    # 6: problems (opened, reminded, resolved) and the outbox of their messages, per target.
    """
    CREATE TABLE problems (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        scope TEXT NOT NULL,
        severity TEXT NOT NULL,
        title TEXT NOT NULL,
        opened_at REAL NOT NULL,
        opened_by INTEGER,
        last_run INTEGER,
        last_reason TEXT NOT NULL,
        occurrences INTEGER NOT NULL DEFAULT 1,
        notified_at REAL,
        resolved_at REAL,
        resolved_by INTEGER
    );
    CREATE UNIQUE INDEX problems_one_open ON problems (key) WHERE resolved_at IS NULL;
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        problem_id INTEGER,
        event TEXT NOT NULL,
        target TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        fields TEXT NOT NULL,
        attachments TEXT NOT NULL DEFAULT '[]',
        created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        delivered_at REAL,
        gave_up_at REAL,
        last_error TEXT
    );
    CREATE INDEX outbox_pending ON outbox (delivered_at, gave_up_at, next_attempt_at);
    """,
    # 7: snapshots a drill verified that a listing of their tier no longer holds (forgotten by
    # hand, a repository rebuilt): never called verified again.
    """
    CREATE TABLE snapshots_gone (
        repository TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        plan TEXT,
        noticed_at REAL NOT NULL,
        PRIMARY KEY (repository, snapshot_id)
    );
    """,
    # 8: each backup judged clean or suspect of ransomware (bdr/detection), and the
    # technician's review of a suspect one.
    """
    CREATE TABLE judgements (
        repository TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        plan TEXT NOT NULL,
        run_id INTEGER,
        snapshot_time REAL NOT NULL,
        judged_at REAL NOT NULL,
        suspect INTEGER NOT NULL,
        signals TEXT NOT NULL,
        total INTEGER NOT NULL,
        previous_total INTEGER NOT NULL,
        new INTEGER NOT NULL,
        changed INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        renamed INTEGER NOT NULL,
        moved INTEGER NOT NULL,
        patterns_version TEXT NOT NULL,
        review TEXT,
        reviewed_at REAL,
        review_note TEXT,
        PRIMARY KEY (repository, snapshot_id)
    );
    CREATE INDEX judgements_by_plan ON judgements (plan, repository, snapshot_time);
    """,
    # 9: on the MSP's steward host, when each snapshot of a kept cloud was first listed: a
    # snapshot that claims a time long before the steward's previous look, and was not there
    # then, was back-dated.
    """
    CREATE TABLE steward_seen (
        repository TEXT NOT NULL,
        snapshot_id TEXT NOT NULL,
        first_seen REAL NOT NULL,
        PRIMARY KEY (repository, snapshot_id)
    );
    """,
    # 10: on the steward host, the head of each appliance's uploaded chain as its last audit
    # saw it (a later chain must still hold it: no rollback), and the suspect snapshots that
    # chain names open (the steward's retention forgets nothing of that appliance meanwhile).
    """
    CREATE TABLE audit_seen (
        appliance TEXT PRIMARY KEY,
        chain TEXT NOT NULL,
        seq INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        audited_at REAL NOT NULL,
        suspects TEXT NOT NULL
    );
    """,
    # 11: a history of a million runs read in milliseconds, not seconds. How many runs of each
    # kind and status, kept by triggers as runs are written (every scrape exports
    # bdr_runs_total: counting a million runs took 150 ms a scrape); the jobs that ever ran,
    # and indexes by start time and by job, for a report's month and each job's last good run
    # before it (a scan of the whole history took 2 s).
    """
    CREATE TABLE run_counts (
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (kind, status)
    ) WITHOUT ROWID;
    INSERT INTO run_counts SELECT kind, status, COUNT(*) FROM runs GROUP BY kind, status;
    CREATE TRIGGER run_counts_insert AFTER INSERT ON runs BEGIN
        INSERT INTO run_counts VALUES (NEW.kind, NEW.status, 1)
            ON CONFLICT (kind, status) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER run_counts_update AFTER UPDATE OF kind, status ON runs
    WHEN OLD.kind != NEW.kind OR OLD.status != NEW.status BEGIN
        UPDATE run_counts SET n = n - 1 WHERE kind = OLD.kind AND status = OLD.status;
        INSERT INTO run_counts VALUES (NEW.kind, NEW.status, 1)
            ON CONFLICT (kind, status) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER run_counts_delete AFTER DELETE ON runs BEGIN
        UPDATE run_counts SET n = n - 1 WHERE kind = OLD.kind AND status = OLD.status;
    END;
    CREATE TABLE run_jobs (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        plan TEXT,
        repository TEXT,
        subject TEXT
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO run_jobs
        SELECT kind || char(31) || IFNULL(plan, char(0)) || char(31) ||
            IFNULL(repository, char(0)) || char(31) || IFNULL(subject, char(0)),
            kind, plan, repository, subject
        FROM runs;
    CREATE TRIGGER run_jobs_insert AFTER INSERT ON runs BEGIN
        INSERT OR IGNORE INTO run_jobs VALUES (
            NEW.kind || char(31) || IFNULL(NEW.plan, char(0)) || char(31) ||
                IFNULL(NEW.repository, char(0)) || char(31) || IFNULL(NEW.subject, char(0)),
            NEW.kind, NEW.plan, NEW.repository, NEW.subject
        );
    END;
    CREATE INDEX runs_by_start ON runs (started_at);
    CREATE INDEX runs_by_job ON runs (kind, plan, repository, subject, started_at);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
