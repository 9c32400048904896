"""The environment through which repositories, passwords and credentials reach restic.

Secrets never go into argv (visible to every user in `ps`); they go here. The same module
knows every secret value it handed out, so that error text can be scrubbed of them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from bdr.restic.envfile import REST_LOGIN, read_env_file


class RepositoryAccess(Protocol):
    """What restic needs to reach a repository: where it is, how its password and backend
    credentials are read, its extended options. The config's repositories are such values;
    restic/ knows nothing else of the config."""

    @property
    def url(self) -> str: ...
    @property
    def password_file(self) -> Path | None: ...
    @property
    def password_command(self) -> str | None: ...
    @property
    def env_file(self) -> Path | None: ...
    @property
    def options(self) -> Mapping[str, str]: ...
    @property
    def limit_upload(self) -> int | None: ...
    @property
    def limit_download(self) -> int | None: ...
    @property
    def limit_hours(self) -> str | None: ...


# Inherited variables that would change which repository or key restic uses.
_FOREIGN_PREFIXES = ("RESTIC_", "AWS_", "B2_", "AZURE_", "GOOGLE_", "OS_", "ST_")
MASK = "***"
# A shorter secret is not masked: "lock" or "wrong" would garble restic's messages (and the mask
# would show where the word stood, revealing it). `config check` warns about such passwords.
MIN_MASKED_LENGTH = 8
# env_file keys whose values are secret; region names and endpoints stay readable in errors.
_SECRET_KEY = re.compile(r"SECRET|KEY|TOKEN|PASSWORD|PASS|CREDENTIAL|ACCOUNT", re.IGNORECASE)


@dataclass(frozen=True)
class ResticEnv:
    """Variables for one restic command, and the secret values they contain."""

    variables: Mapping[str, str]
    secrets: frozenset[str] = field(default_factory=frozenset)
    # Extended options (-o key=value) of the repositories involved; never secrets.
    options: tuple[str, ...] = ()

    def redact(self, text: str) -> str:
        """Return `text` with every secret value replaced by a mask."""
        return redact(text, self.secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return `text` with each of `secrets` (longest first) replaced by a mask."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_MASKED_LENGTH:
            text = text.replace(secret, MASK)
    return text


def _repository_variables(
    prefix: str, repository: RepositoryAccess
) -> tuple[dict[str, str], set[str]]:
    variables = {f"{prefix}REPOSITORY": repository.url}
    secrets: set[str] = set()
    if repository.password_file is not None:
        variables[f"{prefix}PASSWORD_FILE"] = str(repository.password_file)
        secrets |= _password_values(repository.password_file)
    elif repository.password_command is not None:
        variables[f"{prefix}PASSWORD_COMMAND"] = repository.password_command
        secrets.add(repository.password_command)
    return variables, secrets


def _password_values(path: Path) -> set[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return set()
    # restic uses the first line; the whole text may show up too, so mask both.
    return {value for value in (text.splitlines()[0] if text else "", text.strip()) if value}


def build_env(
    repository: RepositoryAccess,
    *,
    from_repository: RepositoryAccess | None = None,
    base: Mapping[str, str] | None = None,
) -> ResticEnv:
    """Return the environment for a command on `repository` (and a copy source, if given).

    Raises ValueError when an env_file cannot be read or when the two repositories' env_files
    set one variable to different values (restic has one set of backend variables).
    """
    inherited = dict(os.environ if base is None else base)
    variables = {
        key: value for key, value in inherited.items() if not key.startswith(_FOREIGN_PREFIXES)
    }
    secrets: set[str] = set()
    credentials: dict[str, str] = {}
    for prefix, repo in (("RESTIC_", repository), ("RESTIC_FROM_", from_repository)):
        if repo is None:
            continue
        repo_vars, repo_secrets = _repository_variables(prefix, repo)
        variables.update(repo_vars)
        secrets |= repo_secrets
        if repo.env_file is not None:
            found = read_env_file(repo.env_file)
            login = [found.pop(key, None) for key in REST_LOGIN]
            if login[0] is not None and login[1] is not None:
                variables[f"{prefix}REPOSITORY"] = _with_login(repo.url, login[0], login[1])
                # As written and as the URL spells it (a message may quote either).
                secrets |= {login[1], quote(login[1], safe="")}
            for key, value in found.items():
                if key in credentials and credentials[key] != value:
                    raise ValueError(
                        f"{repo.env_file} sets {key} differently from the other repository's "
                        "env_file; restic takes one value per variable"
                    )
                credentials[key] = value
                if _SECRET_KEY.search(key):
                    secrets.add(value)
    variables.update(credentials)
    return ResticEnv(
        variables=variables,
        secrets=frozenset(secrets),
        options=_options(repository, from_repository)
        + bandwidth_limits(repository, from_repository),
    )


def _with_login(url: str, user: str, password: str) -> str:
    """`url` (rest:http[s]://host/...) with the REST server's login in it, percent-encoded;
    any other URL as it is (the login is a REST server's only)."""
    scheme, separator, rest = url.partition("://")
    if not url.startswith("rest:http") or not separator:
        return url
    netloc, slash, path = rest.partition("/")
    host = netloc.rsplit("@", 1)[-1]  # a login already in the URL gives way to the env_file's
    return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{host}{slash}{path}"


def every_secret(repositories: Iterable[RepositoryAccess]) -> frozenset[str]:
    """Every secret value of `repositories` (passwords, secret env_file values): what the output
    of a hook or an application check is scrubbed of before it is kept or sent anywhere."""
    found: set[str] = set()
    for repository in repositories:
        found |= _repository_variables("", repository)[1]
        if repository.env_file is not None:
            try:
                values = read_env_file(repository.env_file)
            except (OSError, ValueError):
                continue
            found |= {value for key, value in values.items() if _SECRET_KEY.search(key)}
    return frozenset(found)


def bandwidth_limits(
    *repositories: RepositoryAccess | None, now: datetime | None = None
) -> tuple[str, ...]:
    """restic's --limit-upload / --limit-download for the repositories involved, the lowest
    where both set one, when the local time is within their `limit_hours` (or always)."""
    moment = now or datetime.now().astimezone()
    flags: tuple[str, ...] = ()
    for flag, attribute in (
        ("--limit-upload", "limit_upload"),
        ("--limit-download", "limit_download"),
    ):
        rates = [
            getattr(repository, attribute)
            for repository in repositories
            if repository is not None
            and getattr(repository, attribute, None)
            and within_hours(getattr(repository, "limit_hours", None), moment)
        ]
        if rates:
            flags += (flag, str(min(rates)))
    return flags


def within_hours(hours: str | None, moment: datetime) -> bool:
    """Whether `moment` (local) is within `HH:MM-HH:MM` (which may wrap past midnight); any
    moment when `hours` is None."""
    if hours is None:
        return True
    start, end = ((int(part[:2]) * 60 + int(part[3:])) for part in hours.split("-"))
    minute = moment.hour * 60 + moment.minute
    return start <= minute < end if start <= end else minute >= start or minute < end


def _options(*repositories: RepositoryAccess | None) -> tuple[str, ...]:
    merged: dict[str, str] = {}
    for repository in repositories:
        for key, value in (repository.options if repository else {}).items():
            if merged.get(key, value) != value:
                raise ValueError(f"option {key} differs between the two repositories")
            merged[key] = value
    return tuple(arg for key, value in sorted(merged.items()) for arg in ("-o", f"{key}={value}"))
