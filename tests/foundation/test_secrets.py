"""Redaction for every shape of URL: valid, invalid, encoded or not (no server needed)."""

from __future__ import annotations

import pytest

from dbopt.errors import DboptError
from dbopt.secrets import check_url, redact_url, scrub_for
from tests.leaks import NASTY_URLS, UNENCODED, assert_no_leak


def test_redact_url_masks_password_and_keeps_the_rest() -> None:
    assert redact_url("postgresql://app:hunter2@db:5432/app?sslmode=require") == (
        "postgresql://app:***@db:5432/app?sslmode=require"
    )
    assert redact_url("http://default:p%40ss@ch:8123/feed") == "http://default:***@ch:8123/feed"
    assert redact_url("postgresql://app@db/app") == "postgresql://app@db/app"
    assert redact_url(None) == "<unset>"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # urlsplit reads these as host "app", port "Xy9": the old redaction printed the password.
        ("postgresql://app:Xy9/Qw7+zK4@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("http://default:Xy9/Qw7+zK4@#p%:z@ch:8123/feed", "http://default:***@ch:8123/feed"),
        ("redis://:Xy9?Qw7#zK4@cache:6379/0", "redis://:***@cache:6379/0"),
        ("postgresql://app:Xy9%40Ab%23Cd@[::1]:5432/app", "postgresql://app:***@[::1]:5432/app"),
        ("postgresql://app@db/app?password=Xy9/Qw7&sslmode=require", "postgresql://app@db/app?password=***&sslmode=require"),
        ("host=db port=5432 password=Xy9/Qw7+zK4 dbname=app", "host=db port=5432 password=*** dbname=app"),
        ("host=db password='Xy9 Qw7\\' zK4' dbname=app", "host=db password=*** dbname=app"),
        ("postgres:Xy9Qw7zK4@db/app", "***@db/app"),  # no scheme: not a URL, still no password shown
    ],
)
def test_redact_url_whatever_the_shape(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(("variable", "url", "password"), NASTY_URLS)
def test_no_piece_of_a_password_survives_redaction_or_scrubbing(variable: str, url: str, password: str) -> None:
    # What a driver might echo: the URL as given, the password raw and decoded, and the pieces
    # a parser cut it into.
    from urllib.parse import unquote

    echoed = f"error near {url!r}: bad password {password} / {unquote(password)} / " + " ".join(
        password.replace("/", " ").replace("#", " ").replace("@", " ").replace("?", " ").split()
    )
    assert_no_leak(redact_url(url), password)
    assert_no_leak(scrub_for(echoed, url), password)


@pytest.mark.parametrize(("variable", "url", "password"), [c for c in NASTY_URLS if c[1] in UNENCODED])
def test_unencoded_special_characters_are_refused_in_one_sentence(variable: str, url: str, password: str) -> None:
    with pytest.raises(DboptError) as refused:
        check_url(url, variable)
    message = str(refused.value)
    assert message.startswith(variable) and message.count(". ") == 0 and message.endswith(").")
    assert "must be percent-encoded" in message
    assert_no_leak(message, password)


@pytest.mark.parametrize(("variable", "url", "password"), [c for c in NASTY_URLS if c[1] not in UNENCODED])
def test_encoded_passwords_and_dsns_are_accepted(variable: str, url: str, password: str) -> None:
    check_url(url, variable)


def test_scrub_masks_passwords_in_any_text() -> None:
    text = 'invalid dsn: "postgresql://u:topsecret@h/db" and password=topsecret again topsecret'
    out = scrub_for(text, "postgresql://u:topsecret@h/db")
    assert "topsecret" not in out
