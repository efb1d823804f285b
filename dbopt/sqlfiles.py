"""SQL lives in `sql/`, in files named by step; this module reads, renders and splits them.

Files may hold `{{name}}` placeholders for values a step chooses at run time (a text
search configuration, `ON CLUSTER`, an engine prefix). Double braces never clash with
ClickHouse's `{name:Type}` query parameters or PostgreSQL array literals.

PostgreSQL files must stay valid SQL for squawk, so there a placeholder is written as a
comment followed by its default: `/*{{batch}}*/ true`, `/*{{carry}}*/ 0`,
`/*{{lower_first}}*/ NULL::uuid`, `/*{{ts_config}}*/ 'simple'::regconfig`, or a bare
identifier such as a schema name (`/*{{scratch}}*/ dbopt_plan_scratch.messages`). Rendering
replaces the comment and the default together; without a value the default stays, so the
file also runs as it is (a backfill batch file then covers the whole table at once).

A default longer than one token is a span, closed by `/*{{/name}}*/`:
`/*{{recalled_filter}}*/ AND m.recalled_at IS NULL /*{{/recalled_filter}}*/`; an empty span
marks where a variant adds SQL. This is how one file renders the variants of one query
(`sql/postgres/queries/plan_2_1_message_history.sql`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

from dbopt.errors import DboptError
from dbopt.paths import SQL_DIR

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_SPAN = re.compile(
    r"/\*\s*\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}\s*\*/(.*?)/\*\s*\{\{\s*/\1\s*\}\}\s*\*/", re.S
)
_DEFAULTED = re.compile(
    r"/\*\s*\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}\s*\*/\s*"
    r"(true|false|-?\d+|NULL(?:::[\w.]+)?|'[^']*'(?:::[\w.]+)?|[a-z_][a-z0-9_]*)",
    re.I,
)


def sql_path(relative: str) -> Path:
    """The absolute path of a file under `sql/`."""
    return SQL_DIR / relative


def read(relative: str) -> str:
    """The text of `sql/<relative>`; a missing file is a packaging error worth one sentence."""
    path = sql_path(relative)
    if not path.is_file():
        raise DboptError(f"SQL file sql/{relative} is missing; restore it from the repository.")
    return path.read_text(encoding="utf-8")


def render(text: str, values: Mapping[str, str] | None = None) -> str:
    """Replace every placeholder by its value; a bare `{{name}}` without one is a bug."""
    values = values or {}

    def sub_defaulted(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(2)

    text = _SPAN.sub(sub_defaulted, text)
    text = _DEFAULTED.sub(sub_defaulted, text)

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"SQL placeholder {{{{{name}}}}} has no value")
        return str(values[name])

    return _PLACEHOLDER.sub(sub, text)


def load(relative: str, values: Mapping[str, str] | None = None) -> str:
    """Read and render one file."""
    return render(read(relative), values)


def checksum(text: str) -> str:
    """A stable fingerprint of SQL text, blind to trailing whitespace and comment-only lines."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    meaningful = [line for line in lines if line and not line.lstrip().startswith("--")]
    return hashlib.sha256("\n".join(meaningful).encode()).hexdigest()[:16]


def split(text: str, *, backslash_escapes: bool = False) -> list[str]:
    """Split a script into statements at top-level semicolons.

    Understands '...' and "..." quoting, $tag$ dollar quoting (PostgreSQL function
    bodies), `--` and `/* */` comments, so a `;` inside any of them never splits.
    Comment-only chunks are dropped; comments leading a statement are kept with it.
    `backslash_escapes` is for ClickHouse, whose string literals escape with `\\`.
    """
    statements: list[str] = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end == -1 else end + 1
            buf.append(text[i:end])
            i = end
        elif ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            buf.append(text[i:end])
            i = end
        elif ch in ("'", '"', "`"):
            j = i + 1
            while j < n:
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:  # doubled quote
                        j += 2
                        continue
                    break
                if backslash_escapes and text[j] == "\\":
                    j += 2
                    continue
                j += 1
            buf.append(text[i : j + 1])
            i = j + 1
        elif ch == "$":
            m = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", text[i:])
            if m:
                tag = m.group(0)
                end = text.find(tag, i + len(tag))
                end = n if end == -1 else end + len(tag)
                buf.append(text[i:end])
                i = end
            else:
                buf.append(ch)
                i += 1
        elif ch == ";":
            _flush(buf, statements)
            buf = []
            i += 1
        else:
            buf.append(ch)
            i += 1
    _flush(buf, statements)
    return statements


def _flush(buf: list[str], out: list[str]) -> None:
    stmt = "".join(buf).strip()
    if not stmt:
        return
    code = "\n".join(line for line in stmt.splitlines() if not line.strip().startswith("--"))
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S).strip()
    if code:
        out.append(stmt)


_PARAMS_HEADER = re.compile(r"^\s*--\s*params:\s*(.+)$", re.M)
_POSITIONAL = re.compile(r"\$(\d+)\b")


def param_names(text: str) -> list[str]:
    """The names of `$1, $2, ...` from a file's `-- params: a, b, c` header (in order)."""
    match = _PARAMS_HEADER.search(text)
    if not match:
        return []
    return [name.strip().split()[0] for name in match.group(1).split(",") if name.strip()]


def positional(statement: str, names: list[str], values: Mapping[str, object]) -> tuple[object, ...]:
    """Arguments for a statement's `$n` placeholders, taken by name from `values`.

    PostgreSQL's native placeholders keep the files valid SQL for squawk; the header
    gives them names so callers pass a dict. A statement receives exactly `$1..$max`
    it uses, so several statements in one file may use a prefix of the list.
    """
    used = [int(n) for n in _POSITIONAL.findall(_strip_dollar_bodies(statement))]
    if not used:
        return ()
    count = max(used)
    if count > len(names):
        raise KeyError(f"statement uses ${count} but the -- params: header names only {len(names)}")
    missing = [n for n in names[:count] if n not in values]
    if missing:
        raise KeyError(f"no value for SQL parameter(s) {', '.join(missing)}")
    return tuple(values[n] for n in names[:count])


def _strip_dollar_bodies(statement: str) -> str:
    """Function bodies use $1 for their own arguments; those are not query parameters."""
    return re.sub(r"\$([A-Za-z_]\w*|)\$.*?\$\1\$", "", statement, flags=re.S)
