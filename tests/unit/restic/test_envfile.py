import pytest

from bdr.restic.envfile import parse_env


def test_parses_comments_export_and_quotes():
    text = "# creds\nexport AWS_ACCESS_KEY_ID=abc\n\nAWS_SECRET_ACCESS_KEY=\"a b 'c'\"\nX='y'\n"
    assert parse_env(text) == {
        "AWS_ACCESS_KEY_ID": "abc",
        "AWS_SECRET_ACCESS_KEY": "a b 'c'",
        "X": "y",
    }


def test_bad_line_is_named_without_its_value():
    with pytest.raises(ValueError, match="line 2") as caught:
        parse_env("A=1\nhunter2\n")
    assert "hunter2" not in str(caught.value)


def test_only_backend_credentials_may_be_set(tmp_path):
    from bdr.restic.envfile import read_env_file, refused_variables

    variables = parse_env(
        "AWS_ACCESS_KEY_ID=a\nB2_ACCOUNT_KEY=b\nHTTPS_PROXY=http://proxy:3128\n"
        "RESTIC_REPOSITORY=/elsewhere\nRESTIC_PASSWORD=x\nPATH=/evil\nLD_PRELOAD=/x.so\n"
    )
    assert refused_variables(variables) == [
        "RESTIC_REPOSITORY",
        "RESTIC_PASSWORD",
        "PATH",
        "LD_PRELOAD",
    ]
    path = tmp_path / "cloud.env"
    path.write_text("RESTIC_REPOSITORY=/elsewhere\n")
    with pytest.raises(ValueError, match="RESTIC_REPOSITORY is not a backend credential") as caught:
        read_env_file(path)
    assert "/elsewhere" not in str(caught.value)
