"""The configuration as frozen, typed objects, validated by pydantic.

Durations are held as whole seconds and sizes as bytes; both serialise back to the strings a
person writes, so `bdr config show` prints what can be pasted back into the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from bdr.config import units

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def _to_seconds(value: Any) -> Any:
    if isinstance(value, bool):  # TOML's true is not one second
        raise ValueError("must be a duration such as '90s', '4h' or '7d', not true or false")
    return units.parse_duration(value) if isinstance(value, str) else value


def _seconds_to_text(seconds: int) -> str:
    if seconds == 0:
        return "0"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _check_cron(value: Any) -> Any:
    if isinstance(value, str):
        units.check_cron(value)
    return value


Duration = Annotated[
    int,
    BeforeValidator(_to_seconds),
    Field(gt=0, le=units.MAX_DURATION),
    PlainSerializer(_seconds_to_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^(\d+[smhdw])+$", "examples": ["90s", "4h"]}),
]


def _to_seconds_or_never(value: Any) -> Any:
    return 0 if value in ("0", 0) else _to_seconds(value)


# A duration where "0" means never (a reminder interval).
DurationOrNever = Annotated[
    int,
    BeforeValidator(_to_seconds_or_never),
    Field(ge=0, le=units.MAX_DURATION),
    PlainSerializer(_seconds_to_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^(0|(\d+[smhdw])+)$", "examples": ["24h", "0"]}),
]
Cron = Annotated[
    str,
    BeforeValidator(_check_cron),
    WithJsonSchema(
        {"type": "string", "description": "5-field cron, local time", "examples": ["0 */4 * * *"]}
    ),
]
Name = Annotated[str, Field(pattern=_NAME_PATTERN)]
Argv = Annotated[list[str], Field(min_length=1)]


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
}
RunKind = Literal[
    "backup", "copy", "retention", "prune", "drill", "check", "report", "snapshots", "restore"
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Appliance(_Section):
    client: str = "Unnamed client"
    site: str = ""
    id: str = Field(default="bdr-appliance", pattern=_NAME_PATTERN)
    state_dir: Path = Path("/var/lib/bdr")
    scratch_dir: Path = Path("/srv/bdr/scratch")
    lock_timeout: Duration = Field(
        default=3600,
        description="how long a run waits for another bdr run on the same repository",
    )
    max_parallel_runs: int = Field(
        default=1, gt=0, description="daemon runs at once (on different repositories)"
    )
    stop_grace: Duration = Field(
        default=60,
        description="on SIGTERM, how long running runs may finish before restic is interrupted",
    )
    max_run_time: dict[RunKind, Duration] = Field(
        default={},
        description="the longest a run of each kind may take before its restic is stopped and "
        "the run fails (timed out); defaults: "
        + ", ".join(
            f"{kind} {_seconds_to_text(seconds)}" for kind, seconds in MAX_RUN_TIME.items()
        ),
    )

    def run_time_limit(self, kind: str) -> int | None:
        """The longest a run of `kind` may take, in seconds (None: unbounded)."""
        configured = {str(name): seconds for name, seconds in self.max_run_time.items()}
        return configured.get(kind, MAX_RUN_TIME.get(kind))


def _check_max_unused(value: str | None) -> str | None:
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


class Repository(_Section):
    url: str = Field(min_length=1)
    prune_schedule: Cron = Field(
        default="0 4 * * 0",
        description="when the daemon prunes the repository (its own run, off the backup path)",
    )
    max_unused: Annotated[str | None, AfterValidator(_check_max_unused)] = Field(
        default=None,
        description="restic prune --max-unused: space left unused to save repacking "
        "('5%', '1GiB', 'unlimited'); restic's default when unset",
    )
    password_file: Path | None = None
    password_command: str | None = Field(default=None, min_length=1)
    env_file: Path | None = None
    options: dict[str, str] = Field(
        default={},
        description="restic extended options (-o key=value), e.g. sftp.command; never secrets, "
        "since they are visible in the process list",
    )

    @field_validator("options")
    @classmethod
    def _no_secret_options(cls, options: dict[str, str]) -> dict[str, str]:
        for key in options:
            if any(word in key.lower() for word in ("key", "secret", "password", "token")):
                raise ValueError(
                    f"option {key!r} looks like a secret; restic options are visible in the "
                    "process list: put credentials in env_file"
                )
        return options

    @model_validator(mode="after")
    def _one_password_source(self) -> Repository:
        if (self.password_file is None) == (self.password_command is None):
            raise ValueError("set exactly one of password_file and password_command")
        return self


class Retention(_Section):
    last: int | None = Field(default=None, gt=0)
    hourly: int | None = Field(default=None, gt=0)
    daily: int | None = Field(default=None, gt=0)
    weekly: int | None = Field(default=None, gt=0)
    monthly: int | None = Field(default=None, gt=0)
    yearly: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _keeps_something(self) -> Retention:
        if not any(value for value in self.model_dump().values()):
            raise ValueError("keeps no snapshot: set at least one of last, hourly, daily, ...")
        return self


class Plan(_Section):
    sources: list[str] = Field(min_length=1)
    exclude: list[str] = []
    repository: Name
    copy_to: list[Name] = []
    schedule: Cron = "0 */4 * * *"
    rpo: Duration = 86400
    retention: Retention | None = None
    before: list[Argv] = []
    hook_timeout: Duration = 600

    @field_validator("sources")
    @classmethod
    def _absolute_sources(cls, sources: list[str]) -> list[str]:
        for source in sources:
            if not source.startswith("/"):
                raise ValueError(f"source {source!r} must be an absolute path")
        return sources


class AppCheck(_Section):
    run: Argv
    expect: str | None = None
    timeout: Duration = 300
    remote: Name | None = None


class Drill(_Section):
    plan: Name
    repository: Name
    kind: Literal["full", "sample"] = "full"
    schedule: Cron = "30 2 * * 6"
    rto: Duration = 3600
    sample: str | None = None
    checks: list[AppCheck] = []
    source_compare: Literal["hash", "metadata", "none"] = "hash"
    keep_on_failure: bool = False

    @field_validator("sample")
    @classmethod
    def _sample_size(cls, sample: str | None) -> str | None:
        if sample is not None:
            if sample.strip().endswith("%"):
                units.parse_fraction(sample)
            else:
                units.parse_size(sample)
        return sample

    @model_validator(mode="after")
    def _sample_only_for_sample_kind(self) -> Drill:
        if self.kind == "full" and self.sample is not None:
            raise ValueError("sample is set but kind is 'full'; use kind = 'sample'")
        if self.kind == "sample" and self.sample is None:
            raise ValueError("kind 'sample' needs a sample size, e.g. sample = '2GiB' or '5%'")
        return self


class Remote(_Section):
    host: str
    port: int = Field(default=22, gt=0, lt=65536)
    user: str
    key_file: Path
    known_hosts: Path


class Check(_Section):
    repository: Name
    schedule: Cron = "0 5 * * *"
    # restic reads subset n/t with t at most 256.
    read_data_cycle: int = Field(default=30, gt=0, le=256)


class Metrics(_Section):
    listen: str | None = Field(
        default="127.0.0.1:9898", description="host:port of the daemon's exporter; empty: none"
    )
    textfile: Path | None = Field(
        default=None, description="a .prom file for node_exporter's textfile collector"
    )
    pushgateway: str | None = Field(
        default=None, description="Pushgateway URL, pushed to after every run"
    )
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    basic_auth_user: str | None = None
    basic_auth_password_file: Path | None = None

    @field_validator("listen")
    @classmethod
    def _host_port(cls, listen: str | None) -> str | None:
        if listen:
            host, _, port = listen.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{listen!r} is not host:port (e.g. 127.0.0.1:9898)")
        return listen or None

    @model_validator(mode="after")
    def _pairs(self) -> Metrics:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("set both tls_cert_file and tls_key_file, or neither")
        if (self.basic_auth_user is None) != (self.basic_auth_password_file is None):
            raise ValueError("set both basic_auth_user and basic_auth_password_file, or neither")
        return self


_MAIL = r"^[^@\s<>,;]+@[^@\s<>,;]+$"


class Notify(_Section):
    urls_file: Path = Field(description="Apprise URLs, one a line (mode 0600: they hold secrets)")
    remind: DurationOrNever = Field(
        default=86400, description="re-notify an open problem at most this often; 0: never"
    )
    min_severity: Literal["info", "warning", "failure"] = "info"
    grafana_url: str | None = Field(
        default=None,
        description="a link put into messages; {appliance}, {client}, {site}, {plan}, {tier} "
        "are filled in",
        examples=["https://grafana.example.com/d/bdr-appliance?var-appliance={appliance}"],
    )
    verified_max_age: Duration | None = Field(
        default=8 * 86400,
        description="a problem opens when no snapshot younger than this passed a drill",
    )
    min_free: str = Field(
        default="5%",
        description="a problem opens when the scratch or a local repository's disk has less "
        "free space: a size ('20GiB') or a share ('5%')",
    )

    @field_validator("grafana_url")
    @classmethod
    def _known_fields(cls, url: str | None) -> str | None:
        if url is not None:
            try:
                url.format(appliance="", client="", site="", plan="", tier="")
            except (KeyError, IndexError, ValueError) as error:
                raise ValueError(
                    f"{url!r}: unknown field {error}; use {{appliance}}, {{client}}, {{site}}, "
                    "{plan}, {tier}"
                ) from None
        return url

    @field_validator("min_free")
    @classmethod
    def _size_or_share(cls, text: str) -> str:
        if text.strip().endswith("%"):
            units.parse_fraction(text)
        else:
            units.parse_size(text)
        return text


class Reports(_Section):
    schedule: Cron = "0 6 1 * *"
    mail_to: list[Annotated[str, Field(pattern=_MAIL)]] = Field(
        default=[], description="mail the report to these addresses (needs a mailto URL)"
    )
    msp: str = ""
    contact: str = ""
    logo: Path | None = Field(default=None, description="an SVG or PNG file, shown on the cover")
    accent: str = Field(default="#1f4e79", pattern=r"^#[0-9A-Fa-f]{6}$", examples=["#1f4e79"])
    output_dir: Path | None = Field(
        default=None, description="where reports are written; default: state_dir/reports"
    )

    @field_validator("logo")
    @classmethod
    def _logo_is_an_image(cls, logo: Path | None) -> Path | None:
        if logo is not None:
            from bdr.report.logo import image_type

            image_type(logo)  # raises ValueError naming the problem
        return logo


class Config(_Section):
    appliance: Appliance = Appliance()
    repositories: dict[Name, Repository] = Field(min_length=1)
    plans: dict[Name, Plan] = {}
    drills: dict[Name, Drill] = {}
    remote: dict[Name, Remote] = {}
    checks: dict[Name, Check] = {}
    metrics: Metrics = Metrics()
    reports: Reports | None = None
    notify: Notify | None = None

    def pruned_repositories(self) -> list[str]:
        """The repositories a plan with a retention policy writes to: those that are pruned."""
        found: list[str] = []
        for plan in self.plans.values():
            if plan.retention is not None:
                found += [n for n in (plan.repository, *plan.copy_to) if n not in found]
        return found

    def plans_named(self, names: list[str] | tuple[str, ...]) -> dict[str, Plan]:
        """Return the named plans (all when none are named); raise KeyError for an unknown name."""
        if not names:
            return dict(self.plans)
        return {name: self.plans[name] for name in names}
