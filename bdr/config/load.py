"""Loading the TOML file into a validated Config, with every problem reported at once.

Longer than most modules: besides reading the file, it holds every check that depends on the
machine rather than on the file's text (secret files and their modes, programs on PATH, paths
that overlap), each a few lines, and they read best side by side.
"""

from __future__ import annotations

import os
import shutil
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bdr.config import cache
from bdr.config.model import Config
from bdr.errors import ConfigError, UsageError
from bdr.restic.envfile import parse_env, refusal, refused_variables

if TYPE_CHECKING:
    from bdr.config import schema

DEFAULT_PATH = Path("/etc/bdr/bdr.toml")


def config_path(option: str | None) -> Path:
    """Return the config file to use: the --config option, then $BDR_CONFIG, then the default."""
    return Path(option or os.environ.get("BDR_CONFIG") or DEFAULT_PATH)


def load_config(path: Path) -> Config:
    """Read and validate the config at `path`.

    Raises UsageError when the file cannot be read or parsed, and ConfigError listing every
    problem (schema, references, secret files) with its key path.
    """
    text = _read(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:
        raise UsageError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    return validate(raw, source=str(path), text=text)


# A config is a few kilobytes; a megabyte is a wrong file (a disk image, /dev/zero).
MAX_CONFIG_BYTES = 1 << 20


def _read(path: Path) -> str:
    """The config's text: a regular file of UTF-8 text, of a sane size, read without waiting
    (a FIFO would block until someone writes to it)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise UsageError(
            f"config file {path} does not exist", hint="pass --config PATH or set BDR_CONFIG"
        ) from None
    except OSError as error:
        raise UsageError(f"config file {path} cannot be read: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"config file {path} is not a regular file")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise UsageError(f"config file {path} cannot be read: {error.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise UsageError(f"config file {path} is larger than 1 MiB: not a bdr config")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UsageError(
            f"config file {path} is not UTF-8 text (line {line}, byte {error.start + 1})",
            hint="TOML is UTF-8: convert it, e.g. iconv -f latin1 -t utf-8",
        ) from None


def validate(raw: dict[str, Any], *, source: str, text: str | None = None) -> Config:
    """Validate parsed TOML; raise ConfigError with every problem found. With the `text` it
    was parsed from, a config validated before is taken from the cache (the machine's checks
    run all the same), and one validated now is kept there."""
    problems: list[str] = []
    where = cache.place(raw) if text is not None else None
    text_key = cache.key(text) if text is not None and where is not None else ""
    config: Config | None = cache.recall(where, text_key)
    if config is None:
        from bdr.config import schema

        try:
            config = schema.validate(raw)
        except schema.ValidationError as error:
            problems.extend(_describe(error))
        else:
            cache.keep(where, text_key, config)
    # Reference and file checks run on the raw data too, so that one pass shows everything.
    problems.extend(_check_references(raw))
    nul = list(_nul_problems(raw, ""))
    problems.extend(nul)
    if nul:  # no path with a NUL can be looked at
        raise ConfigError(sorted(dict.fromkeys(problems)), source=source)
    problems.extend(_check_files(raw))
    problems.extend(_check_commands(raw))
    problems.extend(_logo_problems(raw))
    if config is not None:
        from bdr.config.ownership import ownership_problems

        problems.extend(ownership_problems(config))
        problems.extend(_mail_problems(config))
    if problems or config is None:
        raise ConfigError(sorted(dict.fromkeys(problems)), source=source)
    return config


_UNKNOWN_KEY = (
    "unknown key (check its spelling; unknown keys are refused so a typo cannot silently "
    "disable a backup)"
)
# A section is a dataclass: pydantic names its keys as arguments.
_FRIENDLY = {
    "extra_forbidden": _UNKNOWN_KEY,
    "unexpected_keyword_argument": _UNKNOWN_KEY,
    "missing": "is required",
    "missing_argument": "is required",
}


def _describe(error: schema.ValidationError) -> Iterator[str]:
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = _FRIENDLY.get(item["type"]) or item["msg"].removeprefix("Value error, ")
        if item["type"] not in _FRIENDLY and item["type"] != "value_error":
            message = message[:1].lower() + message[1:]
        yield f"{path}: {message}"


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _check_references(raw: dict[str, Any]) -> Iterator[str]:
    repositories = set(_table(raw, "repositories"))
    plans = _table(raw, "plans")
    for name, plan in plans.items():
        if not isinstance(plan, dict):
            continue
        repository = plan.get("repository")
        if isinstance(repository, str) and repository not in repositories:
            yield f"plans.{name}.repository: no repository named {repository!r}"
        for target in _names(plan.get("copy_to")):
            if target not in repositories:
                yield f"plans.{name}.copy_to: no repository named {target!r}"
            elif target == repository:
                yield f"plans.{name}.copy_to: {target!r} is the plan's own repository"
    append_only = {
        name
        for name, repository in _table(raw, "repositories").items()
        if isinstance(repository, dict) and repository.get("append_only") is True
    }
    for name, plan in plans.items():
        if not isinstance(plan, dict) or plan.get("retention") is None:
            continue
        tiers = [plan.get("repository"), *_names(plan.get("copy_to"))]
        if all(tier in append_only for tier in tiers):
            yield (
                f"plans.{name}.retention: every tier of the plan is append_only, where bdr never "
                "forgets: the MSP's steward runs their retention (remove retention here)"
            )
    for name, plan in plans.items():
        own = plan.get("tier_retention") if isinstance(plan, dict) else None
        for tier in own if isinstance(own, dict) else {}:
            if tier in append_only:
                yield (
                    f"plans.{name}.tier_retention.{tier}: repositories.{tier} is append_only, "
                    "where bdr never forgets: the MSP's steward runs its retention"
                )
    for name in _table(raw, "steward"):
        if name not in repositories:
            yield f"steward.{name}: no repository named {name!r} (the cloud it keeps)"
        elif name in append_only:
            yield (
                f"steward.{name}: repositories.{name} is append_only here; the steward needs "
                "the full-access login (remove append_only, use the full-access door's env_file)"
            )
    yield from _check_evidence_store(raw, repositories)
    for name, audit in _table(raw, "audit").items():
        repository = audit.get("repository") if isinstance(audit, dict) else None
        if isinstance(repository, str) and repository not in repositories:
            yield f"audit.{name}.repository: no repository named {repository!r}"
    remotes = set(_table(raw, "remote"))
    for name, drill in _table(raw, "drills").items():
        if not isinstance(drill, dict):
            continue
        plan_name = drill.get("plan")
        if isinstance(plan_name, str) and plan_name not in plans:
            yield f"drills.{name}.plan: no plan named {plan_name!r}"
        repository = drill.get("repository")
        if isinstance(repository, str) and repository not in repositories:
            yield f"drills.{name}.repository: no repository named {repository!r}"
        plan = plans.get(plan_name) if isinstance(plan_name, str) else None
        if isinstance(plan, dict) and isinstance(repository, str) and repository in repositories:
            tiers = [plan.get("repository"), *_names(plan.get("copy_to"))]
            if repository not in tiers:
                yield (
                    f"drills.{name}.repository: plan {plan_name!r} does not store snapshots in "
                    f"{repository!r} (it uses {', '.join(str(t) for t in tiers)})"
                )
        checks = drill.get("checks")
        for index, check in enumerate(checks if isinstance(checks, list) else []):
            remote = check.get("remote") if isinstance(check, dict) else None
            if isinstance(remote, str) and remote not in remotes:
                yield f"drills.{name}.checks.{index}.remote: no remote named {remote!r}"
    for name, check in _table(raw, "checks").items():
        repository = check.get("repository") if isinstance(check, dict) else None
        if isinstance(repository, str) and repository not in repositories:
            yield f"checks.{name}.repository: no repository named {repository!r}"


def _check_evidence_store(raw: dict[str, Any], repositories: set[str]) -> Iterator[str]:
    """The evidence store is a repository of its own: a plan's snapshots beside the uploads
    would be listed, copied, drilled and kept by rules made for neither."""
    store = _table(raw, "evidence").get("upload_to")
    if not isinstance(store, str):
        return
    if store not in repositories:
        yield f"evidence.upload_to: no repository named {store!r}"
        return
    for name, plan in _table(raw, "plans").items():
        if isinstance(plan, dict) and store in [
            plan.get("repository"),
            *_names(plan.get("copy_to")),
        ]:
            yield (
                f"evidence.upload_to: {store!r} is a tier of plan {name!r}; the evidence store "
                "needs a repository of its own (another path of the cloud)"
            )
            return


def _nul_problems(value: Any, where: str) -> Iterator[str]:
    """A NUL character in any text: no path, command or name can hold one."""
    if isinstance(value, str):
        if "\x00" in value:
            yield f"{where}: contains a NUL character"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nul_problems(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_problems(item, f"{where}.{index}")


def _check_commands(raw: dict[str, Any]) -> Iterator[str]:
    """Application checks run on the appliance must name a program that is there to run."""
    for name, drill in _table(raw, "drills").items():
        checks = drill.get("checks") if isinstance(drill, dict) else None
        for index, check in enumerate(checks if isinstance(checks, list) else []):
            if not isinstance(check, dict) or check.get("remote") is not None:
                continue  # a remote's programs are the remote's
            run = check.get("run")
            if not isinstance(run, list) or not run or not isinstance(run[0], str):
                continue  # the schema says so
            where = f"drills.{name}.checks.{index}.run"
            program = run[0]
            if not program.strip():
                yield f"{where}: the program is empty"
            elif "\x00" in program:
                continue
            elif "/" in program:
                if not os.path.isfile(program) or not os.access(program, os.X_OK):
                    yield f"{where}: {program} is not an executable file"
            elif shutil.which(program) is None:
                yield f"{where}: {program!r} is not found on PATH"


_ABSOLUTE_PATHS = (
    ("appliance", None, ("state_dir", "scratch_dir")),
    ("repositories", "*", ("password_file", "env_file")),
    ("remote", "*", ("key_file", "known_hosts")),
    ("metrics", None, ("tls_cert_file", "tls_key_file", "basic_auth_password_file", "textfile")),
    ("notify", None, ("urls_file",)),
    ("reports", None, ("output_dir",)),
    ("audit", "*", ("allowed_signers",)),
)
_SECRET_FILES = {
    "password_file",
    "env_file",
    "key_file",
    "tls_key_file",
    "basic_auth_password_file",
    "urls_file",
}
# Files that must exist (secrets are checked for their mode as well).
_EXISTING_FILES = {*_SECRET_FILES, "known_hosts", "tls_cert_file", "allowed_signers"}


def _check_files(raw: dict[str, Any]) -> Iterator[str]:
    service = _service_user(raw)
    for section, per_name, keys in _ABSOLUTE_PATHS:
        table = _table(raw, section)
        entries = table.items() if per_name else [(None, table)]
        for name, entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in keys:
                value = entry.get(key)
                if not isinstance(value, str):
                    continue
                where = ".".join(part for part in (section, name, key) if part)
                if not value.startswith("/"):
                    yield f"{where}: {value!r} must be an absolute path"
                elif key in _EXISTING_FILES:
                    yield from _check_file(
                        where, Path(value), secret=key in _SECRET_FILES, service=service
                    )


def _service_user(raw: dict[str, Any]) -> int | None:
    """For root: the owner of state_dir, the user bdr acts as (a root restore does), whose
    secrets are the service's own. None for another user, who reads only its own."""
    if os.geteuid() != 0:
        return None
    state_dir = _table(raw, "appliance").get("state_dir", str(cache.DEFAULT_STATE_DIR))
    try:
        return Path(str(state_dir)).stat().st_uid
    except OSError:
        return None


def _check_file(
    where: str, path: Path, *, secret: bool, service: int | None = None
) -> Iterator[str]:
    try:
        # A secret is judged by the file named, not by what a symlink points to: a link to a
        # file of another user's, in a directory anyone writes, is no secret.
        info = path.lstat() if secret else path.stat()
    except FileNotFoundError:
        yield f"{where}: file {path} does not exist"
        return
    except OSError as error:
        yield f"{where}: file {path} cannot be read: {error.strerror}"
        return
    if secret and stat.S_ISLNK(info.st_mode):
        yield f"{where}: {path} is a symlink; it holds a secret: name the file itself"
        return
    if not stat.S_ISREG(info.st_mode):
        yield f"{where}: {path} is not a regular file"
        return
    if secret:
        problem = _secret_problem(path, info, service)
        if problem:
            yield f"{where}: {problem}"
            return
    if not os.access(path, os.R_OK):
        yield f"{where}: file {path} is not readable by this user"
        return
    if where.endswith("password_file") and info.st_size == 0:
        yield f"{where}: {path} is empty"
        return
    if where.endswith(".env_file"):
        try:
            variables = parse_env(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            yield f"{where}: {path}: {error}"
            return
        for key in refused_variables(variables):
            yield f"{where}: {refusal(path, key)}"
    if where.endswith(".urls_file"):
        from bdr.apprise_urls import url_problems

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, ValueError) as error:
            yield f"{where}: {path}: {error}"
            return
        for problem in url_problems(text):
            yield f"{where}: {path} {problem}"


def _mail_problems(config: Config) -> Iterator[str]:
    """The report's mail goes through a mailto URL of urls_file: there must be one."""
    if not config.reports or not config.reports.mail_to:
        return
    if config.notify is None:
        yield "reports.mail_to: needs [notify] urls_file with a mailto:// or mailtos:// URL"
        return
    from bdr.apprise_urls import MAIL_SCHEMES, read_urls, scheme

    try:
        urls = read_urls(config.notify.urls_file)
    except (OSError, ValueError):
        return  # said by the file check
    if not any(scheme(url) in MAIL_SCHEMES for url in urls):
        yield (
            f"reports.mail_to: {config.notify.urls_file} has no mailto:// or mailtos:// URL "
            "to send the report through"
        )


def _logo_problems(raw: dict[str, Any]) -> Iterator[str]:
    """The report's logo is an SVG or PNG file: looked at each time, as it may change."""
    logo = _table(raw, "reports").get("logo")
    if not isinstance(logo, str):
        return  # absent, or not a path: said by the schema
    from bdr.logo import image_type

    try:
        image_type(Path(logo))
    except ValueError as error:
        yield f"reports.logo: {error}"


def _secret_problem(path: Path, info: os.stat_result, service: int | None = None) -> str | None:
    """Why a file cannot hold a secret: readable by others, owned by another user (than the
    one running bdr, root, or the `service` user root acts as), or in a directory that others
    can write (they could replace it)."""
    if info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        return (
            f"{path} is open to group or others (mode {mode:04o}); it holds a secret: "
            f"run chmod 600 {path}"
        )
    if info.st_uid not in (os.geteuid(), 0, service):
        return (
            f"{path} belongs to another user (uid {info.st_uid}); it holds a secret: it must "
            "be the user's who runs bdr, or root's"
        )
    for parent in path.parents:
        try:
            parent_info = parent.stat()
        except OSError:
            break
        writable = parent_info.st_mode & 0o022
        sticky = parent_info.st_mode & stat.S_ISVTX
        if writable and not (sticky and parent_info.st_uid in (os.geteuid(), 0)):
            return (
                f"{path} is in {parent}, which others can write (mode "
                f"{stat.S_IMODE(parent_info.st_mode):04o}): they could replace the secret; "
                f"run chmod go-w {parent}"
            )
    return None


def warnings(config: Config) -> list[str]:
    """Return what is valid but unwise, for `config check` to print: weak passwords, metrics
    open to the network without TLS or a password."""
    from bdr.restic.environment import MIN_MASKED_LENGTH

    found = []
    metrics = config.metrics
    if metrics.listen:
        host = metrics.listen.rpartition(":")[0].strip("[]")
        loopback = host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")
        protected = metrics.tls_cert_file and metrics.basic_auth_user
        if not loopback and not protected:
            found.append(
                f"metrics.listen: {metrics.listen} is open to the network without TLS and basic "
                "auth: anyone there reads the client's backup state (set tls_cert_file, "
                "tls_key_file, basic_auth_user and basic_auth_password_file)"
            )
    for name, plan in config.plans.items():
        retained = config.retained_tiers(plan)
        tiers = (plan.repository, *plan.copy_to)
        skipped = [t for t in tiers if config.repositories[t].append_only]
        if plan.retention is not None and skipped:
            found.append(
                f"plans.{name}.retention: applies to {', '.join(retained)} "
                f"only; {', '.join(skipped)} is append_only: its retention runs on the MSP's "
                "steward"
            )
    if config.notify is None and (config.plans or config.steward or config.audit):
        found.append(
            "notify: not configured: a failed backup, drill or check reaches nobody until "
            "someone reads bdr status (set notify.urls_file)"
        )
    store = config.evidence.upload_to
    if store is not None and not config.repositories[store].append_only:
        found.append(
            f"evidence.upload_to: repositories.{store} is not append_only: whoever takes the "
            "appliance can delete the proof it uploaded (serve it append-only, set append_only)"
        )
    for name, repository in config.repositories.items():
        if repository.password_file is None:
            continue
        try:
            first = repository.password_file.read_text(encoding="utf-8").split("\n", 1)[0]
        except OSError:
            continue
        if len(first) < MIN_MASKED_LENGTH:
            found.append(
                f"repositories.{name}.password_file: the password is shorter than "
                f"{MIN_MASKED_LENGTH} characters: too weak, and too short to be masked in "
                "restic's messages without garbling them"
            )
    return found


def apprise_problems(config: Config) -> list[str]:
    """What `bdr config check` refuses beyond the config's own checks: urls_file lines that
    Apprise does not accept. The daemon refuses the same at its start and at a reload."""
    if config.notify is None:
        return []
    urls_file = config.notify.urls_file
    try:
        text = urls_file.read_text()
    except (OSError, UnicodeDecodeError) as error:
        return [f"notify.urls_file: {urls_file} cannot be read: {error}"]
    from bdr.apprise_urls import rejected

    return [f"notify.urls_file: {urls_file} {problem}" for problem in rejected(text)]


def load_checked(path: Path) -> Config:
    """The config, as `bdr config check` judges it: the daemon never runs one it refuses."""
    config = load_config(path)
    problems = apprise_problems(config)
    if problems:
        raise ConfigError(problems, source=str(path))
    return config
