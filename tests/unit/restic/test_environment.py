import os
from pathlib import Path

import pytest

from bdr.config.model import Repository
from bdr.restic.environment import MASK, build_env


def secret_file(path: Path, text: str) -> Path:
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def test_repository_and_password_file_go_through_the_environment(tmp_path):
    password = secret_file(tmp_path / "pw", "pa ss \"q\" 's'\n")
    env = build_env(
        Repository(url="/srv/repo", password_file=password),
        base={"PATH": "/usr/bin", "RESTIC_PASSWORD": "leaked", "AWS_PROFILE": "x"},
    )
    assert env.variables == {
        "PATH": "/usr/bin",
        "RESTIC_REPOSITORY": "/srv/repo",
        "RESTIC_PASSWORD_FILE": str(password),
    }
    assert env.redact("Fatal: pa ss \"q\" 's' is wrong") == f"Fatal: {MASK} is wrong"


def test_copy_source_and_env_files(tmp_path):
    cloud_env = secret_file(
        tmp_path / "cloud.env",
        "AWS_ACCESS_KEY_ID=id\nAWS_SECRET_ACCESS_KEY=topsecret\nAWS_DEFAULT_REGION=eu\n",
    )
    env = build_env(
        Repository(
            url="s3:http://h/b",
            password_file=secret_file(tmp_path / "c", "cpw"),
            env_file=cloud_env,
        ),
        from_repository=Repository(url="/srv/repo", password_command="pass show x"),
        base={},
    )
    assert env.variables["RESTIC_FROM_REPOSITORY"] == "/srv/repo"
    assert env.variables["RESTIC_FROM_PASSWORD_COMMAND"] == "pass show x"
    assert env.variables["AWS_SECRET_ACCESS_KEY"] == "topsecret"
    assert env.redact("key topsecret in eu") == f"key {MASK} in eu"


def test_conflicting_env_files_are_refused(tmp_path):
    one = secret_file(tmp_path / "one.env", "AWS_ACCESS_KEY_ID=a\n")
    two = secret_file(tmp_path / "two.env", "AWS_ACCESS_KEY_ID=b\n")
    pw = secret_file(tmp_path / "pw", "x\n")
    with pytest.raises(ValueError, match="AWS_ACCESS_KEY_ID differently"):
        build_env(
            Repository(url="s3:a", password_file=pw, env_file=one),
            from_repository=Repository(url="s3:b", password_file=pw, env_file=two),
            base={},
        )


def test_repository_options_become_o_flags(tmp_path):
    pw = secret_file(tmp_path / "pw", "x\n")
    env = build_env(
        Repository(url="sftp:u@h:/r", password_file=pw, options={"sftp.command": "ssh -p 2222 h"}),
        base={},
    )
    assert env.options == ("-o", "sftp.command=ssh -p 2222 h")


def test_secret_looking_options_are_refused(tmp_path):
    from bdr.config.schema import ValidationError, validate

    with pytest.raises(ValidationError, match="put credentials in env_file"):
        validate(
            {
                "repositories": {
                    "r": {"url": "s3:x", "password_file": "/pw", "options": {"s3.secret-key": "x"}}
                }
            }
        )


def test_a_rest_servers_login_from_the_env_file_goes_into_the_url_in_the_environment(tmp_path):
    env_file = tmp_path / "cloud.env"
    env_file.write_text("RESTIC_REST_USERNAME=dental-01\nRESTIC_REST_PASSWORD=p@ss/word:long\n")
    env_file.chmod(0o600)
    repository = Repository(
        url="rest:https://backup.example.com:8000/dental-01/",
        password_command="pass show cloud",
        env_file=env_file,
    )
    env = build_env(repository, base={})
    assert env.variables["RESTIC_REPOSITORY"] == (
        "rest:https://dental-01:p%40ss%2Fword%3Along@backup.example.com:8000/dental-01/"
    )
    assert "RESTIC_REST_PASSWORD" not in env.variables  # restic 0.14 reads only the URL
    assert "p@ss/word:long" in env.secrets
    assert env.redact("error for p@ss/word:long") == "error for ***"
    assert env.redact("GET http://dental-01:p%40ss%2Fword%3Along@host/") == (
        "GET http://dental-01:***@host/"
    )
