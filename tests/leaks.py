"""URLs whose passwords must never show, and the check that no piece of one does.

Every host is a closed port on this machine (9, the discard port, where nothing listens),
so a URL that is accepted fails fast at its connection, whose error must not echo the
password either.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# (variable, url, password as written in the url)
NASTY_URLS: list[tuple[str, str, str]] = [
    ("DATABASE_URL", "postgresql://app:Xy9/Qw7+zK4@127.0.0.1:9/app", "Xy9/Qw7+zK4"),
    ("DATABASE_URL", "postgresql://app:Vb3@Rt5#Lm8?Np2@127.0.0.1:9/app", "Vb3@Rt5#Lm8?Np2"),
    ("DATABASE_URL", "postgresql://app:Gh4%Jk6%zz@127.0.0.1:9/app", "Gh4%Jk6%zz"),
    ("DATABASE_URL", "postgresql://app:Wq1 Er2 Ty3@127.0.0.1:9/app", "Wq1 Er2 Ty3"),
    ("DATABASE_URL", "postgresql://app:Xy9%2FQw7%2BzK4@127.0.0.1:9/app", "Xy9%2FQw7%2BzK4"),
    ("DATABASE_URL", "postgresql://app:Fd5%40Sa6%23Gf7@[::1]:9/app", "Fd5%40Sa6%23Gf7"),
    ("DATABASE_URL", "postgresql://app@127.0.0.1:9/app?password=Hj8Kl9Zx0&sslmode=disable", "Hj8Kl9Zx0"),
    ("DATABASE_URL", "host=127.0.0.1 port=9 dbname=app user=app password=Cv1/Bn2+Mq3", "Cv1/Bn2+Mq3"),
    ("DATABASE_URL", "host=127.0.0.1 port=9 dbname=app user=app password='Pl4 Ok5\\'Ij6'", "Pl4 Ok5'Ij6"),
    ("DATABASE_URL", "postgres:Uy7Tr8Ew9@127.0.0.1:9/app", "Uy7Tr8Ew9"),
    ("CLICKHOUSE_URL", "http://default:Xy9/Qw7+zK4@#p%:z@127.0.0.1:9/feed", "Xy9/Qw7+zK4@#p%:z"),
    ("CLICKHOUSE_URL", "http://default:Qa2[Ws3]Ed4@127.0.0.1:9/feed", "Qa2[Ws3]Ed4"),
    ("CLICKHOUSE_URL", "http://default:Xy9%2FQw7%2BzK4@127.0.0.1:9/feed", "Xy9%2FQw7%2BzK4"),
    ("CLICKHOUSE_URL", "https://default:Rf5%40Tg6%3AYh7@[::1]:9/feed", "Rf5%40Tg6%3AYh7"),
    ("REDIS_URL", "redis://:Xy9/Qw7+zK4@127.0.0.1:9/0", "Xy9/Qw7+zK4"),
    ("REDIS_URL", "redis://default:Mn3@Bv4#Cx5@127.0.0.1:9/0", "Mn3@Bv4#Cx5"),
    ("REDIS_URL", "redis://default:Xy9%2FQw7%2BzK4@127.0.0.1:9/0", "Xy9%2FQw7%2BzK4"),
    ("REDIS_URL", "redis://user:Lk2%40Jh3@[::1]:9/0", "Lk2%40Jh3"),
]
# Passwords with special characters that are not percent-encoded: refused before any connection.
UNENCODED = {
    url for _, url, password in NASTY_URLS
    if "://" in url and "?password=" not in url and re.search(r"[/?#@\[\]\s]|%(?![0-9a-fA-F]{2})", password)
}


def fragments(password: str) -> set[str]:
    """The password raw and decoded, and every piece of 3+ characters between any two
    characters that are not letters or digits."""
    out = set()
    for form in (password, unquote(password)):
        out.add(form)
        out.update(re.split(r"[^A-Za-z0-9]+", form))
    return {f for f in out if len(f) >= 3}


def assert_no_leak(text: str, password: str) -> None:
    shown = sorted(f for f in fragments(password) if f in text)
    assert not shown, f"pieces of the password {shown} appear in: {text[:2000]}"
