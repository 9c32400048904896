import pytest

from bdr.config.envfile import parse_env


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
