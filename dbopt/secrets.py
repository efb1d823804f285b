"""Keep passwords out of logs, metadata and error messages, whatever the shape of the URL.

Parsers disagree on where a password ends when its special characters are not
percent-encoded: `urlsplit` cuts the userinfo at the first `/`, `?` or `#`, so
`postgresql://app:Xy9/Qw+zK@host/db` reads as host `app`, port `Xy9`, path `/Qw+zK@host/db`
and a redaction based on it prints the password. Here the userinfo is everything between
`scheme://` and the LAST `@` (in free text, the last before whitespace): a few characters of
host or path may be hidden with it, never a character of the password shown. Such URLs are refused before any
connection (`check_url`), and every error text we show is scrubbed of the password, raw and
decoded, and of its pieces split at reserved characters, since drivers echo pieces.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

MASK = "***"
# In free text: scheme://userinfo@rest, the userinfo running to the LAST "@" before whitespace.
_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<userinfo>[^\s]*)@(?P<rest>[^@\s]*)", re.I)
# One URL on its own: the userinfo runs to its LAST "@", whitespace included.
_WHOLE_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<userinfo>.*)@(?P<rest>[^@]*)", re.I | re.S)
# password=... as a URL query parameter, a libpq key=value pair, or in a driver's message.
_PASSWORD_KV = re.compile(r"""(?P<key>password\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^&\s]+)""", re.I)
# Characters that must be percent-encoded in a URL's password.
_UNENCODED = re.compile(r"[/?#@\[\]\s]|%(?![0-9a-fA-F]{2})")
# Where drivers cut a password that was not encoded; pieces between them may be echoed.
_RESERVED = re.compile(r"[/?#@\[\]%:&=\s'\"]+")
MIN_FRAGMENT = 3


def _split_userinfo(userinfo: str) -> tuple[str, str | None]:
    user, sep, password = userinfo.partition(":")
    return user, (password if sep else None)


def _masked_userinfo(m: re.Match[str]) -> str:
    user, password = _split_userinfo(m["userinfo"])
    return f"{m['scheme']}{user}{':' + MASK if password is not None else ''}@{m['rest']}"


def redact_url(url: str | None) -> str:
    """The URL (or libpq DSN) with its password replaced by `***`, safe to show anywhere."""
    if not url:
        return "<unset>"
    text = url.strip()
    whole = _WHOLE_URL.fullmatch(text)
    if whole:
        text = _masked_userinfo(whole)
    elif "://" not in text and "=" not in text and "@" in text:
        # Not a URL nor a DSN (e.g. a missing scheme): whatever precedes the last "@" may be a password.
        text = MASK + text[text.rindex("@"):]
    return scrub(text)


def _passwords(url: str) -> list[str]:
    """Every password written in a URL or DSN: in the userinfo, as a `password=` parameter."""
    found: list[str] = []
    m = _WHOLE_URL.fullmatch(url.strip())
    if m:
        found.append(_split_userinfo(m["userinfo"])[1] or "")
    elif "://" not in url and "@" in url and "=" not in url:
        found.append(url[: url.rindex("@")])
    for kv in _PASSWORD_KV.finditer(url):
        value = kv["value"]
        if value[:1] in "'\"":
            value = re.sub(r"\\(.)", r"\1", value.strip(value[0]))
        found.append(value)
    return [p for p in found if p]


def secret_fragments(url: str | None) -> list[str]:
    """What scrubbing must mask for `url`: each password raw, decoded and re-encoded, and its
    pieces between reserved characters, longest first, so that no piece of 3+ characters shows."""
    if not url:
        return []
    out: set[str] = set()
    for password in _passwords(url):
        for form in (password, unquote(password)):
            out.update((form, quote(form, safe="")))
            out.update(_RESERVED.split(form))
    return sorted((f for f in out if len(f) >= MIN_FRAGMENT), key=len, reverse=True)


def scrub(text: str, *secrets: str | None) -> str:
    """Text with URL passwords, `password=` values and the given secrets masked."""
    out = _URL.sub(_masked_userinfo, text)
    out = _PASSWORD_KV.sub(lambda m: f"{m['key']}{MASK}", out)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        if len(secret) >= MIN_FRAGMENT:
            out = out.replace(secret, MASK)
    return out


def scrub_for(text: str, *urls: str | None) -> str:
    """Text with every password of these URLs, and every piece of one, masked."""
    fragments = [f for u in urls for f in secret_fragments(u)]
    return scrub(text, *fragments)


def check_url(url: str, variable: str) -> None:
    """Refuse, before any connection, a URL whose password has unencoded special characters:
    drivers would cut it at one of them, send the wrong password and echo pieces of it."""
    from dbopt.errors import DboptError

    m = _WHOLE_URL.fullmatch(url.strip())
    passwords = [_split_userinfo(m["userinfo"])[1] or ""] if m else []
    if "://" in url:
        passwords += [kv["value"] for kv in _PASSWORD_KV.finditer(url)]
    if any(_UNENCODED.search(p) for p in passwords):
        raise DboptError(
            f"{variable} {redact_url(url)} has a password with special characters that are not percent-encoded; "
            f"special characters in a password must be percent-encoded (for example / as %2F, @ as %40, # as %23, "
            f"? as %3F, % as %25)."
        )
