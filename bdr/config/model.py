"""The configuration as frozen, typed objects: plain dataclasses, validated by pydantic.

The schema (constraints, descriptions, conversions) is in the annotations, which are strings
that pydantic resolves in bdr.config.schema (never in this module's namespace): importing this
module imports no pydantic, so a command whose config was validated before
(bdr.config.cache) starts without it (~0.1 s).
Durations are held as whole seconds and sizes as bytes; both serialise back to the strings a
person writes, so `bdr config show` prints what can be pasted back into the file.

The whole schema is this one module, a dataclass per section in the order of the file: it is
the reference `bdr config schema` prints, and reads as one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from bdr.config import units

if TYPE_CHECKING:
    # Read by pydantic only, which bdr.config.schema hands them (schema.NAMESPACE).
    from pydantic import AfterValidator, Field

    from bdr.config.schema import Argv, Cron, Duration, DurationOrNever, Name

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAIL_PATTERN = r"^[^@\s<>,;]+@[^@\s<>,;]+$"

# Unknown keys are refused, so that a typo cannot silently disable a backup.
_STRICT = {"extra": "forbid"}


def to_seconds(value: Any) -> Any:
    if isinstance(value, bool):  # TOML's true is not one second
        raise ValueError("must be a duration such as '90s', '4h' or '7d', not true or false")
    return units.parse_duration(value) if isinstance(value, str) else value


def seconds_to_text(seconds: int) -> str:
    if seconds == 0:
        return "0"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def to_seconds_or_never(value: Any) -> Any:
    return 0 if value in ("0", 0) else to_seconds(value)


def check_cron(value: Any) -> Any:
    if isinstance(value, str):
        from bdr.schedule import cron

        cron.check(value)
    return value


# Long enough for a first backup or a seed copy of terabytes; short enough that a restic which
# hangs (a dead NFS mount, a cloud that stopped answering) frees the daemon's run slot and the
# repository lock the same day. A restore is a person's, watched: unbounded unless configured.
MAX_RUN_TIME: dict[str, int] = {
    "backup": 24 * 3600,
    "copy": 48 * 3600,
    "retention": 12 * 3600,
    "prune": 24 * 3600,
    "drill": 24 * 3600,
    "check": 24 * 3600,
    "report": 3600,
    # Listing reads a few small files: a cloud that accepts connections and never answers must
    # not hold a technician at 2 a.m. for an hour per repository.
    "snapshots": 300,
    "steward": 12 * 3600,
    "audit": 3600,
    # A cloud that accepts connections and never answers holds the upload, never a backup;
    # what waits goes in the next one.
    "upload": 3600,
}
RunKind = Literal[
    "backup",
    "copy",
    "retention",
    "prune",
    "drill",
    "check",
    "report",
    "snapshots",
    "restore",
    "steward",
    "audit",
    "upload",
]
_MAX_RUN_TIME_HELP = (
    "the longest a run of each kind may take before its restic is stopped and the run fails "
    "(timed out); defaults: "
    + ", ".join(f"{kind} {seconds_to_text(seconds)}" for kind, seconds in MAX_RUN_TIME.items())
)


@dataclass(frozen=True, kw_only=True)
class Appliance:
    __pydantic_config__ = _STRICT

    client: str = "Unnamed client"
    site: str = ""
    id: Annotated[str, Field(pattern=NAME_PATTERN)] = "bdr-appliance"
    state_dir: Path = Path("/var/lib/bdr")
    scratch_dir: Path = Path("/srv/bdr/scratch")
    lock_timeout: Annotated[
        Duration,
        Field(description="how long a run waits for another bdr run on the same repository"),
    ] = 3600
    max_parallel_runs: Annotated[
        int,
        # Each run is a restic of its own, with its memory and open files: beyond a few dozen
        # a machine holds none of them well.
        Field(gt=0, le=64, description="daemon runs at once (on different repositories)"),
    ] = 1
    stop_grace: Annotated[
        Duration,
        Field(
            description="on SIGTERM, how long running runs may finish before restic is interrupted"
        ),
    ] = 60
    max_run_time: Annotated[dict[RunKind, Duration], Field(description=_MAX_RUN_TIME_HELP)] = field(
        default_factory=dict
    )

    def run_time_limit(self, kind: str) -> int | None:
        """The longest a run of `kind` may take, in seconds (None: unbounded)."""
        configured = {str(name): seconds for name, seconds in self.max_run_time.items()}
        return configured.get(kind, MAX_RUN_TIME.get(kind))


def check_max_unused(value: str | None) -> str | None:
    """restic's --max-unused: 'unlimited', a share from 0% to 100%, or a size."""
    text = (value or "").strip()
    if value is None or text.lower() == "unlimited" or text == "0":
        return value
    if text.endswith("%"):
        number = text[:-1].strip()
        if not number.replace(".", "", 1).isdigit() or float(number) > 100:
            raise ValueError(f"{value!r} is not a share from 0% to 100%")
        return value
    units.parse_size(text)
    return value


def no_secret_options(options: dict[str, str]) -> dict[str, str]:
    for key in options:
        if any(word in key.lower() for word in ("key", "secret", "password", "token")):
            raise ValueError(
                f"option {key!r} looks like a secret; restic options are visible in the "
                "process list: put credentials in env_file"
            )
    return options


# restic's backends (`s3:https://...`, `sftp:user@host:/path`, `local:/path`, ...).
RESTIC_SCHEMES = ("local", "sftp", "rest", "s3", "swift", "b2", "azure", "gs", "rclone")


def repository_url(url: str) -> str:
    """A restic backend URL, or an absolute path: a relative path means another directory to
    the daemon than to the technician who wrote it."""
    scheme, colon, rest = url.partition(":")
    if colon and scheme in RESTIC_SCHEMES:
        if scheme == "local" and not rest.startswith("/"):
            raise ValueError(f"{url!r}: a local repository's path must be absolute")
        return url
    if not url.startswith("/"):
        raise ValueError(
            f"{url!r} is neither an absolute path nor a restic URL ("
            + ", ".join(f"{name}:" for name in RESTIC_SCHEMES)
            + ")"
        )
    return url


# Weekly, early on Sunday: a repack's I/O away from the working week's backups.
PRUNE_SCHEDULE = "0 4 * * 0"


@dataclass(frozen=True, kw_only=True)
class Repository:
    __pydantic_config__ = _STRICT

    url: Annotated[str, Field(min_length=1), AfterValidator(repository_url)]
    prune_schedule: Annotated[
        Cron,
        Field(
            description="when the daemon prunes the repository (its own run, off the backup path)"
        ),
    ] = PRUNE_SCHEDULE
    max_unused: Annotated[
        str | None,
        AfterValidator(check_max_unused),
        Field(
            description="restic prune --max-unused: space left unused to save repacking "
            "('5%', '1GiB', 'unlimited'); restic's default when unset"
        ),
    ] = None
    password_file: Path | None = None
    password_command: Annotated[str | None, Field(min_length=1)] = None
    env_file: Path | None = None
    options: Annotated[
        dict[str, str],
        AfterValidator(no_secret_options),
        Field(
            description="restic extended options (-o key=value), e.g. sftp.command; never "
            "secrets, since they are visible in the process list"
        ),
    ] = field(default_factory=dict)
    append_only: Annotated[
        bool,
        Field(
            description="the server refuses this appliance any deletion (a rest: URL served "
            "append-only): bdr never forgets or prunes there; retention is the MSP's steward's"
        ),
    ] = False
    limit_upload: Annotated[
        int | None,
        Field(gt=0, description="restic's --limit-upload, in KiB/s: the client's uplink"),
    ] = None
    limit_download: Annotated[
        int | None, Field(gt=0, description="restic's --limit-download, in KiB/s")
    ] = None
    limit_hours: Annotated[
        str | None,
        Field(
            pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$",
            description="local hours in which the limits apply (HH:MM-HH:MM, may wrap past "
            "midnight); always when unset. A restic keeps the limit it started with",
            examples=["07:30-18:00"],
        ),
    ] = None

    def __post_init__(self) -> None:
        if (self.password_file is None) == (self.password_command is None):
            raise ValueError("set exactly one of password_file and password_command")
        if self.append_only and (self.prune_schedule != PRUNE_SCHEDULE or self.max_unused):
            raise ValueError(
                "append_only: bdr never prunes an append-only repository (the server would "
                "refuse it; the MSP's steward prunes it with full access): remove "
                "prune_schedule and max_unused"
            )


@dataclass(frozen=True, kw_only=True)
class Retention:
    __pydantic_config__ = _STRICT

    last: Annotated[int | None, Field(gt=0)] = None
    hourly: Annotated[int | None, Field(gt=0)] = None
    daily: Annotated[int | None, Field(gt=0)] = None
    weekly: Annotated[int | None, Field(gt=0)] = None
    monthly: Annotated[int | None, Field(gt=0)] = None
    yearly: Annotated[int | None, Field(gt=0)] = None

    def __post_init__(self) -> None:
        if not any(getattr(self, keep.name) for keep in fields(self)):
            raise ValueError("keeps no snapshot: set at least one of last, hourly, daily, ...")


def absolute_sources(sources: list[str]) -> list[str]:
    for source in sources:
        if not source.startswith("/"):
            raise ValueError(f"source {source!r} must be an absolute path")
    return sources


@dataclass(frozen=True, kw_only=True)
class Plan:
    __pydantic_config__ = _STRICT

    sources: Annotated[list[str], Field(min_length=1), AfterValidator(absolute_sources)]
    exclude: list[str] = field(default_factory=list)
    repository: Name
    copy_to: list[Name] = field(default_factory=list)
    schedule: Cron = "0 */4 * * *"
    copy_schedule: Annotated[
        Cron | None,
        Field(
            description="copy to the copy_to tiers on a schedule of their own (the client's "
            "quiet hours), not after every backup; their retention follows the copy",
            examples=["0 22 * * *"],
        ),
    ] = None
    rpo: Duration = 86400
    tier_rpo: Annotated[
        dict[Name, Duration],
        Field(
            description="an RPO of its own for a tier of the plan (a cloud copied nightly, "
            "say); the others keep `rpo`",
            examples=[{"cloud": "26h"}],
        ),
    ] = field(default_factory=dict)
    retention: Retention | None = None
    tier_retention: Annotated[
        dict[Name, Retention],
        Field(
            description="a policy of its own for a tier of the plan (a longer one for the "
            "cloud, say); the others keep `retention`",
            examples=[{"cloud": {"daily": 30, "monthly": 12}}],
        ),
    ] = field(default_factory=dict)
    before: list[Argv] = field(default_factory=list)
    hook_timeout: Duration = 600
    decoys: Annotated[
        bool,
        Field(
            description="plant three decoy documents in each source root; any change to one "
            "makes the backup suspect of ransomware (bdr never plants them unless asked)"
        ),
    ] = False

    def __post_init__(self) -> None:
        twice = sorted({name for name in self.copy_to if self.copy_to.count(name) > 1})
        if twice:
            raise ValueError(f"copy_to names {', '.join(map(repr, twice))} more than once")
        if self.copy_schedule is not None and not self.copy_to:
            raise ValueError("copy_schedule: the plan has no copy_to tier to copy to")
        tiers = [self.repository, *self.copy_to]
        for key, own in (("tier_rpo", self.tier_rpo), ("tier_retention", self.tier_retention)):
            stray = sorted(set(own) - set(tiers))
            if stray:
                raise ValueError(
                    f"{key}: {', '.join(map(repr, stray))} is not a tier of the plan "
                    f"(its tiers: {', '.join(tiers)})"
                )

    def rpo_of(self, tier: str) -> int:
        """The recovery-point objective of `tier` of this plan: its own, else the plan's."""
        return self.tier_rpo.get(tier, self.rpo)

    def retention_of(self, tier: str) -> Retention | None:
        """The retention policy of `tier` of this plan: its own, else the plan's."""
        return self.tier_retention.get(tier, self.retention)


@dataclass(frozen=True, kw_only=True)
class AppCheck:
    __pydantic_config__ = _STRICT

    run: Argv
    expect: str | None = None
    timeout: Duration = 300
    remote: Name | None = None
    name: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=80,
            description="what the check proves, as the report's runbook names it "
            "(default: its program and where it runs)",
            examples=["the practice database answers"],
        ),
    ] = None

    @property
    def runs_on(self) -> str:
        """Where the check runs, as a drill's verdict and the report say it."""
        return f"recovery host {self.remote}" if self.remote else "the appliance"


def size_or_share(text: str) -> str:
    if text.strip().endswith("%"):
        units.parse_fraction(text)
    else:
        units.parse_size(text)
    return text


@dataclass(frozen=True, kw_only=True)
class Drill:
    __pydantic_config__ = _STRICT

    plan: Name
    repository: Name
    kind: Literal["full", "sample"] = "full"
    schedule: Cron = "30 2 * * 6"
    rto: Duration = 3600
    sample: Annotated[str, AfterValidator(size_or_share)] | None = None
    checks: list[AppCheck] = field(default_factory=list)
    source_compare: Literal["hash", "metadata", "none"] = "hash"
    keep_on_failure: bool = False

    def __post_init__(self) -> None:
        if self.kind == "full" and self.sample is not None:
            raise ValueError("sample is set but kind is 'full'; use kind = 'sample'")
        if self.kind == "sample" and self.sample is None:
            raise ValueError("kind 'sample' needs a sample size, e.g. sample = '2GiB' or '5%'")


@dataclass(frozen=True, kw_only=True)
class Remote:
    __pydantic_config__ = _STRICT

    host: str
    port: Annotated[int, Field(gt=0, lt=65536)] = 22
    user: str
    key_file: Path
    known_hosts: Path


@dataclass(frozen=True, kw_only=True)
class Check:
    __pydantic_config__ = _STRICT

    repository: Name
    schedule: Cron = "0 5 * * *"
    # restic reads subset n/t with t at most 256.
    read_data_cycle: Annotated[int, Field(gt=0, le=256)] = 30


@dataclass(frozen=True, kw_only=True)
class Keep:
    """What the steward keeps, as restic's keep-within policies but measured from now on the
    steward's clock, never from the newest snapshot: a snapshot forged into the future by a
    compromised appliance moves nothing. There is no keep-last for the same reason."""

    __pydantic_config__ = _STRICT

    within: Annotated[Duration | None, Field(description="every snapshot this young")] = None
    within_hourly: Annotated[
        Duration | None, Field(description="the newest of each hour, this far back")
    ] = None
    within_daily: Annotated[
        Duration | None, Field(description="the newest of each day, this far back")
    ] = None
    within_weekly: Annotated[
        Duration | None, Field(description="the newest of each ISO week, this far back")
    ] = None
    within_monthly: Annotated[
        Duration | None, Field(description="the newest of each month, this far back")
    ] = None
    within_yearly: Annotated[
        Duration | None, Field(description="the newest of each year, this far back")
    ] = None

    def __post_init__(self) -> None:
        if all(getattr(self, f.name) is None for f in fields(self)):
            raise ValueError(
                "set at least one of within, within_hourly, within_daily, within_weekly, "
                "within_monthly, within_yearly"
            )


@dataclass(frozen=True, kw_only=True)
class Steward:
    """Retention of an appliance's cloud repository, run from the MSP's side with a login that
    may delete (docs/configuration.md, "The steward")."""

    __pydantic_config__ = _STRICT

    appliance: Annotated[
        str | None, Field(description="the appliance whose cloud this is; default: the key")
    ] = None
    keep: Keep
    schedule: Cron = "0 6 * * *"
    read_data_cycle: Annotated[int, Field(gt=0, le=256)] = 30
    hold: Annotated[
        str | None,
        Field(
            min_length=1,
            description="while set (say why), nothing is forgotten: an incident under "
            "investigation",
        ),
    ] = None
    max_backup_time: Annotated[
        Duration,
        Field(
            description="how long a backup may run: a snapshot first seen later than this "
            "after its own time was back-dated and is not trusted"
        ),
    ] = 3 * 86400


@dataclass(frozen=True, kw_only=True)
class Audit:
    """On the MSP's steward host: the audit of one appliance's evidence uploaded to the cloud
    (`[audit.APPLIANCE]`, keyed by the appliance's id)."""

    __pydantic_config__ = _STRICT

    repository: Annotated[
        Name, Field(description="the repositories entry of the appliance's evidence store")
    ]
    allowed_signers: Annotated[
        Path,
        Field(
            description="the appliance's public key as the MSP registered it (an OpenSSH "
            "allowed_signers or .pub file)"
        ),
    ]
    schedule: Cron = "30 6 * * *"
    stalled_after: Annotated[
        Duration,
        Field(description="a finding when the uploaded chain has not grown for this long"),
    ] = 2 * 86400


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """Where the appliance's evidence leaves the box (docs/evidence.md, "The proof off the box")."""

    __pydantic_config__ = _STRICT

    upload_to: Annotated[
        Name | None,
        Field(
            description="the repositories entry of the cloud's evidence store (append-only): "
            "the chain, its signed head and the signed reports are uploaded there after runs"
        ),
    ] = None


# A host name as DNS has them: ASCII letters, digits and hyphens in dot-separated labels.
_HOST_NAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")


def host_port(listen: str | None) -> str | None:
    if listen:
        host, _, port = listen.rpartition(":")
        bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
            raise ValueError(f"{listen!r} is not host:port (e.g. 127.0.0.1:9898)")
        if not _is_address(bare) and not (bare == host and _HOST_NAME.match(host)):
            raise ValueError(
                f"{listen!r}: {host!r} is not an IP address or a host name (e.g. 127.0.0.1:9898)"
            )
    return listen or None


def _is_address(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def http_url(url: str | None) -> str | None:
    """An http(s) URL with a host (the Pushgateway's)."""
    if url is not None:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port that is not one
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
    return url


@dataclass(frozen=True, kw_only=True)
class Metrics:
    __pydantic_config__ = _STRICT

    listen: Annotated[
        str | None,
        AfterValidator(host_port),
        Field(description="host:port of the daemon's exporter; empty: none"),
    ] = "127.0.0.1:9898"
    textfile: Annotated[
        Path | None, Field(description="a .prom file for node_exporter's textfile collector")
    ] = None
    pushgateway: Annotated[
        str | None,
        AfterValidator(http_url),
        Field(description="Pushgateway URL, pushed to after every run"),
    ] = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    basic_auth_user: str | None = None
    basic_auth_password_file: Path | None = None

    def __post_init__(self) -> None:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("set both tls_cert_file and tls_key_file, or neither")
        if (self.basic_auth_user is None) != (self.basic_auth_password_file is None):
            raise ValueError("set both basic_auth_user and basic_auth_password_file, or neither")


def known_fields(url: str | None) -> str | None:
    if url is not None:
        try:
            url.format(appliance="", client="", site="", plan="", tier="")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"{url!r}: unknown field {error}; use {{appliance}}, {{client}}, {{site}}, "
                "{plan}, {tier}"
            ) from None
    return url


@dataclass(frozen=True, kw_only=True)
class Detection:
    """Judging every backup clean or suspect of ransomware (docs/ransomware.md)."""

    __pydantic_config__ = _STRICT

    enabled: bool = True
    extra_patterns: Annotated[
        list[Annotated[str, Field(min_length=1)]],
        Field(
            description="more file names ransomware leaves: shell patterns matched, in lower "
            "case, against a new file's name",
            examples=[["*.mylocker", "read_me_now.txt"]],
        ),
    ] = field(default_factory=list)
    sample_files: Annotated[
        int,
        Field(
            ge=0,
            le=100_000,
            description="changed files read after each backup to see whether their content "
            "still matches their format",
        ),
    ] = 200
    sample_bytes: Annotated[
        int, Field(ge=512, le=1 << 24, description="bytes read from the start of each")
    ] = 65536
    baseline_backups: Annotated[
        int,
        Field(
            ge=10,
            le=1000,
            description="the plan's recent clean backups its normal change rates are taken "
            "from (rate signals start after 10)",
        ),
    ] = 30
    sensitivity: Annotated[
        float,
        Field(
            gt=0,
            le=100,
            description="k: a rate is unusual above the plan's median plus k times its spread",
        ),
    ] = 5.0
    min_files: Annotated[
        int, Field(ge=1, description="fewer files changed, deleted or renamed make no signal")
    ] = 50


@dataclass(frozen=True, kw_only=True)
class Notify:
    __pydantic_config__ = _STRICT

    urls_file: Annotated[
        Path, Field(description="Apprise URLs, one a line (mode 0600: they hold secrets)")
    ]
    remind: Annotated[
        DurationOrNever,
        Field(description="re-notify an open problem at most this often; 0: never"),
    ] = 86400
    min_severity: Literal["info", "warning", "failure"] = "info"
    grafana_url: Annotated[
        str | None,
        AfterValidator(known_fields),
        Field(
            description="a link put into messages; {appliance}, {client}, {site}, {plan}, "
            "{tier} are filled in",
            examples=["https://grafana.example.com/d/bdr-appliance?var-appliance={appliance}"],
        ),
    ] = None
    verified_max_age: Annotated[
        Duration | None,
        Field(description="a problem opens when no snapshot younger than this passed a drill"),
    ] = 8 * 86400
    min_free: Annotated[
        str,
        AfterValidator(size_or_share),
        Field(
            description="a problem opens when the scratch or a local repository's disk has "
            "less free space: a size ('20GiB') or a share ('5%')"
        ),
    ] = "5%"


@dataclass(frozen=True, kw_only=True)
class Reports:
    __pydantic_config__ = _STRICT

    schedule: Cron = "0 6 1 * *"
    mail_to: Annotated[
        list[Annotated[str, Field(pattern=MAIL_PATTERN)]],
        Field(description="mail the report to these addresses (needs a mailto URL)"),
    ] = field(default_factory=list)
    msp: str = ""
    contact: str = ""
    # Checked to be an SVG or PNG file each time the config is loaded (bdr.config.load).
    logo: Annotated[Path | None, Field(description="an SVG or PNG file, shown on the cover")] = None
    accent: Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$", examples=["#1f4e79"])] = "#1f4e79"
    output_dir: Annotated[
        Path | None,
        Field(description="where reports are written; default: state_dir/reports"),
    ] = None


@dataclass(frozen=True, kw_only=True)
class Config:
    __pydantic_config__ = _STRICT

    appliance: Appliance = field(default_factory=Appliance)
    repositories: Annotated[dict[Name, Repository], Field(min_length=1)]
    plans: dict[Name, Plan] = field(default_factory=dict)
    drills: dict[Name, Drill] = field(default_factory=dict)
    remote: dict[Name, Remote] = field(default_factory=dict)
    checks: dict[Name, Check] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    reports: Reports | None = None
    notify: Notify | None = None
    detection: Detection = field(default_factory=Detection)
    evidence: Evidence = field(default_factory=Evidence)
    # On the MSP's steward host: repositories.<name> is an appliance's cloud, kept here.
    steward: dict[Name, Steward] = field(default_factory=dict)
    # On the MSP's steward host: the appliances whose uploaded evidence it audits, by id.
    audit: dict[Name, Audit] = field(default_factory=dict)

    def retained_tiers(self, plan: Plan) -> list[str]:
        """The tiers of `plan` where bdr applies its retention: all but the append-only ones
        (whose retention the MSP's steward runs)."""
        tiers = (plan.repository, *plan.copy_to)
        return [
            name
            for name in tiers
            if plan.retention_of(name) is not None and not self.repositories[name].append_only
        ]

    def pruned_repositories(self) -> list[str]:
        """The repositories bdr applies a retention policy to: those that are pruned."""
        found: list[str] = []
        for plan in self.plans.values():
            found += [n for n in self.retained_tiers(plan) if n not in found]
        return found

    def plans_named(self, names: list[str] | tuple[str, ...]) -> dict[str, Plan]:
        """Return the named plans (all when none are named); raise KeyError for an unknown name."""
        if not names:
            return dict(self.plans)
        return {name: self.plans[name] for name in names}
