from bdr.config.model import Retention
from bdr.restic import argv


def test_backup_argv_is_tagged_and_ends_options():
    assert argv.backup(
        ["/srv/docs", "-weird"], plan="office", excludes=["*.tmp"], cache_dir="/var/cache"
    ) == (
        "restic",
        "--cache-dir",
        "/var/cache",
        "backup",
        "--json",
        "--tag",
        "bdr-plan=office",
        "--exclude",
        "*.tmp",
        "--",
        "/srv/docs",
        "-weird",
    )


def test_forget_groups_by_tag_and_keeps_by_policy():
    retention = Retention(hourly=24, daily=14, weekly=8, monthly=12)
    assert argv.forget("office", retention) == (
        "restic",
        "forget",
        "--json",
        "--tag",
        "bdr-plan=office",
        "--group-by",
        "tags",
        "--keep-hourly",
        "24",
        "--keep-daily",
        "14",
        "--keep-weekly",
        "8",
        "--keep-monthly",
        "12",
    )


def test_init_for_copy_target_copies_chunker_params():
    assert argv.init(copy_chunker_params=True) == ("restic", "init", "--copy-chunker-params")
    assert argv.init() == ("restic", "init")


def test_copy_selects_the_plan():
    assert argv.copy("office") == ("restic", "copy", "--tag", "bdr-plan=office")


def test_restore_with_includes_and_verify():
    assert argv.restore("abc123", "/tmp/t", includes=["/srv/a", "/srv/b"]) == (
        "restic",
        "restore",
        "abc123",
        "--target",
        "/tmp/t",
        "--include",
        "/srv/a",
        "--include",
        "/srv/b",
        "--verify",
    )
    assert argv.restore("abc", "/t", verify=False, json_progress=True) == (
        "restic",
        "restore",
        "--json",
        "abc",
        "--target",
        "/t",
    )


def test_snapshots_ls_unlock():
    assert argv.snapshots(plan="p", latest=1) == (
        "restic",
        "snapshots",
        "--json",
        "--tag",
        "bdr-plan=p",
        "--latest",
        "1",
    )
    assert argv.ls("abc") == ("restic", "ls", "--json", "abc")
    assert argv.unlock() == ("restic", "unlock")


def test_no_builder_takes_a_repository_or_password():
    # Secrets and repository URLs travel in the environment; no builder has a place for them.
    import inspect

    for name, builder in vars(argv).items():
        if callable(builder) and inspect.isfunction(builder):
            params = set(inspect.signature(builder).parameters)
            assert not params & {"password", "repository", "repo", "url"}, name


def test_ls_latest_of_a_plan():
    assert argv.ls("latest", plan="office") == (
        "restic",
        "ls",
        "--json",
        "--tag",
        "bdr-plan=office",
        "latest",
    )
    assert argv.check(3, 30) == ("restic", "check", "--read-data-subset=3/30")


def test_forget_dry_run_and_forget_of_chosen_ids():
    retention = Retention(daily=7)
    assert argv.forget("office", retention, dry_run=True) == (
        "restic",
        "forget",
        "--json",
        "--dry-run",
        "--tag",
        "bdr-plan=office",
        "--group-by",
        "tags",
        "--keep-daily",
        "7",
    )
    ids = ["a" * 64, "b" * 64]
    assert argv.forget_ids(ids) == ("restic", "forget", "--json", "--", "a" * 64, "b" * 64)


def test_a_restic_that_must_not_touch_bdrs_cache_runs_without_one():
    # A root restore's restic: its cache files would be root's, in the service user's cache.
    assert argv.restore("1a2b3c4d", "/srv/back", cache_dir=argv.NO_CACHE)[:3] == (
        "restic",
        "--no-cache",
        "restore",
    )
