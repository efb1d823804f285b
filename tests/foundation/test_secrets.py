from __future__ import annotations

from dbopt.secrets import redact_url, scrub, url_password


def test_redact_url_masks_password_and_keeps_the_rest() -> None:
    assert redact_url("postgresql://app:hunter2@db:5432/app?sslmode=require") == (
        "postgresql://app:***@db:5432/app?sslmode=require"
    )
    assert redact_url("http://default:p%40ss@ch:8123/feed") == "http://default:***@ch:8123/feed"
    assert redact_url("postgresql://app@db/app") == "postgresql://app@db/app"
    assert redact_url(None) == "<unset>"


def test_scrub_masks_passwords_in_any_text() -> None:
    text = 'invalid dsn: "postgresql://u:topsecret@h/db" and password=topsecret again topsecret'
    out = scrub(text, url_password("postgresql://u:topsecret@h/db"))
    assert "topsecret" not in out
