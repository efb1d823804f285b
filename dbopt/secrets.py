"""Keep passwords out of logs, metadata and error messages."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

_PASSWORD_IN_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]*)@", re.I)
_PASSWORD_KV = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.I)


def redact_url(url: str | None) -> str:
    """The URL with its password replaced by `***`, safe to show anywhere."""
    if not url:
        return "<unset>"
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub(url)
    if parts.password is None:
        return scrub(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port:
        netloc += f":{port}"
    return scrub(urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)))


def url_password(url: str | None) -> str | None:
    """The password in a URL, to scrub it from text that may echo it."""
    if not url:
        return None
    try:
        pw = urlsplit(url).password
    except ValueError:
        return None
    return unquote(pw) if pw else None


def scrub(text: str, *secrets: str | None) -> str:
    """Text with URL passwords, `password=` pairs and the given secrets masked."""
    out = _PASSWORD_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    out = _PASSWORD_KV.sub(lambda m: f"{m.group(1)}***", out)
    for secret in secrets:
        if secret and len(secret) >= 3:
            out = out.replace(secret, "***")
    return out
