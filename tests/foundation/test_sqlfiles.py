from __future__ import annotations

import pytest

from dbopt import sqlfiles


def test_split_respects_quotes_dollar_bodies_and_comments() -> None:
    text = """
    -- a comment; with a semicolon
    CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql;
    SELECT 'a;b', "we;ird" FROM t; /* c; d */
    SELECT $$x;y$$;
    -- trailing comment only
    """
    stmts = sqlfiles.split(text)
    assert len(stmts) == 3
    assert "RETURN 1; END" in stmts[0]
    assert "'a;b'" in stmts[1]
    assert stmts[2].endswith("SELECT $$x;y$$")


def test_split_backslash_escapes_only_for_clickhouse() -> None:
    ch = "SELECT 'it\\'s; fine'; SELECT 2"
    assert len(sqlfiles.split(ch, backslash_escapes=True)) == 2
    pg = "SELECT 'C:\\'; SELECT 2"  # PostgreSQL: backslash is an ordinary character
    assert len(sqlfiles.split(pg)) == 2


def test_render_refuses_unknown_placeholders() -> None:
    assert sqlfiles.render("SELECT {{x}}, {n:UInt64}", {"x": "1"}) == "SELECT 1, {n:UInt64}"
    with pytest.raises(KeyError):
        sqlfiles.render("SELECT {{missing}}")


def test_positional_params_follow_header_names() -> None:
    text = "-- params: a, b\nSELECT $2::int + $1::int"
    names = sqlfiles.param_names(text)
    assert names == ["a", "b"]
    assert sqlfiles.positional(text, names, {"a": 1, "b": 2}) == (1, 2)
    assert sqlfiles.positional("SELECT $1", names, {"a": 1, "b": 2}) == (1,)
    with pytest.raises(KeyError):
        sqlfiles.positional(text, names, {"a": 1})


def test_function_body_placeholders_are_not_query_params() -> None:
    stmt = "CREATE FUNCTION f(int) RETURNS int AS $$ SELECT $1 $$ LANGUAGE sql"
    assert sqlfiles.positional(stmt, [], {}) == ()


def test_checksum_ignores_comments_and_whitespace_only() -> None:
    a = sqlfiles.checksum("-- why\nSELECT 1;  \n")
    assert a == sqlfiles.checksum("SELECT 1;")
    assert a != sqlfiles.checksum("SELECT 2;")


def test_missing_file_is_one_sentence() -> None:
    with pytest.raises(Exception, match="sql/nope.sql is missing"):
        sqlfiles.read("nope.sql")


def test_a_span_renders_a_variant_and_keeps_its_default_otherwise() -> None:
    text = "SELECT 1 WHERE a /*{{f}}*/AND b IS NULL/*{{/f}}*/ /*{{k}}*//*{{/k}}*/ ORDER BY x/*{{t}}*/ /*{{/t}}*/"
    assert sqlfiles.render(text).split() == "SELECT 1 WHERE a AND b IS NULL ORDER BY x".split()
    assert sqlfiles.render(text, {"f": "", "k": "AND c > $5", "t": ", id"}).split() == \
        "SELECT 1 WHERE a AND c > $5 ORDER BY x, id".split()
