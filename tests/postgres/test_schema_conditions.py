"""The triggers and the rollback under production conditions: retried sends, other
search_paths, moved messages, TRUNCATE, and a rollback while the application writes and a
report holds a snapshot. Real servers, real threads."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from dbopt.postgres.traffic import Traffic
from tests.postgres.conftest import failures, run_job
from tests.postgres.invariants import violations

CONFIRM = {"ops": {"rollback_postgres_schema": {"config": {"confirm": "rollback"}}}}
WAIT_S = 60  # bound on every wait for a helper thread


class Snapshot(threading.Thread):
    """A report: a REPEATABLE READ transaction that read `messages` and stays open until told."""

    def __init__(self, url: str) -> None:
        super().__init__(name="report-snapshot")
        self.url = url
        self.holding = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.url) as conn:
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                conn.execute("SELECT count(*) FROM messages").fetchone()
                self.holding.set()
                self.release.wait(WAIT_S)
                conn.rollback()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.holding.set()


def test_rollback_while_four_writers_insert_and_a_snapshot_is_held(phase1_pg_url: str) -> None:
    """Each rollback step leaves a schema the application can write to: zero failed writes."""
    with psycopg.connect(phase1_pg_url) as conn:
        before = {r[0] for r in conn.execute("SELECT id FROM messages").fetchall()}
    traffic = Traffic(phase1_pg_url, kinds=("send_hot", "send_random"), threads_per_kind=2)
    report = Snapshot(phase1_pg_url)
    with traffic:
        report.start()
        assert report.holding.wait(WAIT_S) and report.error is None, report.error
        # The report stays open while the rollback runs its first steps, then ends: the
        # concurrent index drops wait for it, and the writers keep writing meanwhile.
        timer = threading.Timer(3.0, report.release.set)
        timer.start()
        result = run_job(phase1_pg_url, "rollback_phase1_postgres", CONFIRM)
        timer.cancel()
        report.release.set()
        report.join(WAIT_S)
        with traffic._lock:
            sent_during = sum(len(v) for v in traffic.stats.inserted.values())
    assert result.success, failures(result)
    stats = traffic.stats
    assert not stats.errors, f"{len(stats.errors)} failed writes, e.g. {stats.errors[:3]}"
    assert sent_during > 0 and stats.ops["send_hot"] > 0 and stats.ops["send_random"] > 0
    inserted = {uuid.UUID(m) for ids in stats.inserted.values() for m in ids}
    with psycopg.connect(phase1_pg_url) as conn:
        after = {r[0] for r in conn.execute("SELECT id FROM messages").fetchall()}
        columns = {r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'messages'::regclass AND attnum > 0 AND NOT attisdropped"
        )}
    assert after == before | inserted  # every row kept, every write landed
    assert "sequence_number" not in columns and "content_tsv" not in columns


def test_a_rollback_stopped_half_way_leaves_a_writable_schema_and_a_rerun_finishes(phase1_pg_url: str) -> None:
    """A session's open transaction on `conversations` stops the rollback at its first DDL there."""
    from dbopt.errors import LockTimeout
    from dbopt.postgres.connect import PgConnector
    from dbopt.postgres.rollback import rollback_phase1
    from dbopt.postgres.runner import MigrationRunner, RunnerSettings

    settings = RunnerSettings(lock_timeout_ms=100, attempts=2, backoff_base_s=0.05, backoff_max_s=0.1)
    connector = PgConnector(phase1_pg_url)
    traffic = Traffic(phase1_pg_url, kinds=("send_hot", "send_random", "members"))
    try:
        with traffic, psycopg.connect(phase1_pg_url) as holder:
            holder.execute("SELECT count(*) FROM conversations").fetchone()  # transaction stays open
            with pytest.raises(LockTimeout, match="gave up"):
                rollback_phase1(MigrationRunner(connector, settings=settings), dry_run=False)
            with psycopg.connect(phase1_pg_url, autocommit=True) as conn:  # the application still writes
                conv, _ = _two_conversations(conn)
                conn.execute(SEND, (uuid.uuid4(), conv))
                conn.execute("INSERT INTO conversations (id) VALUES (gen_random_uuid())")
            holder.rollback()
            report = rollback_phase1(MigrationRunner(connector), dry_run=False)
    finally:
        connector.close()
    assert report.matches_baseline, report.remaining_differences
    assert not traffic.stats.errors, traffic.stats.errors[:3]
    assert all(traffic.stats.ops[k] > 0 for k in ("send_hot", "send_random", "members")), traffic.stats.ops


# --- item 2: a retried send ------------------------------------------------------------------

SEND = "INSERT INTO messages (id, conversation_id, sender_id, content) VALUES (%s, %s, gen_random_uuid(), 'hi')"
RETRY = SEND + " ON CONFLICT (id) DO NOTHING"


def _top(conn: psycopg.Connection, conversation: uuid.UUID) -> tuple[int, int]:
    """(max sequence_number, last_sequence_number) of a conversation."""
    return conn.execute(
        "SELECT (SELECT max(sequence_number) FROM messages WHERE conversation_id = c.id), c.last_sequence_number "
        "FROM conversations c WHERE c.id = %s",
        (conversation,),
    ).fetchone()


def _two_conversations(conn: psycopg.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    rows = conn.execute("SELECT conversation_id FROM messages GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2").fetchall()
    return rows[0][0], rows[1][0]


def test_a_retried_send_takes_no_number(phase1_pg_url: str) -> None:
    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        conv, other = _two_conversations(conn)
        x = uuid.uuid4()
        conn.execute(SEND, (x, conv))
        top, counter = _top(conn, conv)
        assert top == counter
        # The client retries the send that had gone through, the same way and into another
        # conversation; an upsert keeps the row's number too.
        conn.execute(RETRY, (x, conv))
        conn.execute(RETRY, (x, other))
        conn.execute(SEND + " ON CONFLICT (id) DO UPDATE SET content = EXCLUDED.content", (x, conv))
        # One statement with a new message, the retried one, and the new one twice.
        y, z = uuid.uuid4(), uuid.uuid4()
        conn.execute(
            "INSERT INTO messages (id, conversation_id, sender_id) SELECT v.id, %s, gen_random_uuid() "
            "FROM unnest(%s::uuid[]) WITH ORDINALITY AS v(id, n) ORDER BY n ON CONFLICT (id) DO NOTHING",
            (conv, [y, x, z, y]),
        )
        numbers = dict(conn.execute(
            "SELECT id, sequence_number FROM messages WHERE id = ANY(%s)", ([x, y, z],)
        ).fetchall())
        assert numbers == {x: top, y: top + 1, z: top + 2}
        assert _top(conn, conv) == (top + 2, top + 2)
        assert _top(conn, other)[0] == _top(conn, other)[1]
        # A plain insert of an existing id is refused as before, and takes no number either.
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(SEND, (x, conv))
        w = uuid.uuid4()
        conn.execute(SEND, (w, conv))
        assert conn.execute("SELECT sequence_number FROM messages WHERE id = %s", (w,)).fetchone()[0] == top + 3
    assert violations(phase1_pg_url) == {}


def test_concurrent_retries_of_the_same_sends(phase1_pg_url: str) -> None:
    """Two clients send each message at the same moment (a retry racing the original)."""
    with psycopg.connect(phase1_pg_url) as conn:
        conv, other = _two_conversations(conn)
    rounds = 40
    ids = {conv: [uuid.uuid4() for _ in range(rounds)], other: [uuid.uuid4() for _ in range(rounds)]}
    barrier = threading.Barrier(4, timeout=WAIT_S)
    errors: list[str] = []

    def client(n: int) -> None:
        with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
            # Clients 0 and 1 send each message of one conversation at the same moment,
            # clients 2 and 3 those of the other one.
            target = conv if n < 2 else other
            for mid in ids[target]:
                try:
                    barrier.wait()
                    conn.execute(RETRY, (mid, target))
                except (psycopg.Error, threading.BrokenBarrierError) as exc:
                    errors.append(str(exc).splitlines()[0])
                    barrier.abort()
                    return

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    assert not errors, errors[:3]
    with psycopg.connect(phase1_pg_url) as conn:
        sent = ids[conv] + ids[other]
        assert conn.execute("SELECT count(*) FROM messages WHERE id = ANY(%s)", (sent,)).fetchone()[0] == 2 * rounds
    assert violations(phase1_pg_url) == {}  # gapless 1..N, counter = max, in both conversations


def test_a_retried_join_counts_once(phase1_pg_url: str) -> None:
    """member_count's triggers fire AFTER INSERT, which a row skipped by ON CONFLICT never reaches."""
    join = ("INSERT INTO conversation_members (conversation_id, user_id) VALUES (%s, %s) "
            "ON CONFLICT (conversation_id, user_id) DO NOTHING")
    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        conv, _ = _two_conversations(conn)
        user = uuid.uuid4()
        for _ in range(3):
            conn.execute(join, (conv, user))
        conn.execute(join.replace("DO NOTHING", "DO UPDATE SET role = 'admin'"), (conv, user))
    assert violations(phase1_pg_url) == {}


# --- item 4: search_path --------------------------------------------------------------------


def test_sessions_with_another_search_path_and_a_dml_only_role_insert(phase1_pg_url: str) -> None:
    role = f"dbopt_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        conv, _ = _two_conversations(conn)
        conn.execute("CREATE SCHEMA elsewhere")
        # Tables of the same name elsewhere must not catch the triggers' statements.
        conn.execute("CREATE TABLE elsewhere.conversations (id uuid, last_sequence_number bigint)")
        conn.execute("CREATE TABLE elsewhere.messages (id uuid, conversation_id uuid, sequence_number bigint)")
        conn.execute(f"CREATE ROLE {role} LOGIN")
        try:
            conn.execute(f"GRANT USAGE ON SCHEMA public, elsewhere TO {role}")
            conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
            app_url = psycopg.conninfo.make_conninfo(phase1_pg_url, user=role)
            for path in ("pg_catalog", "elsewhere, public"):
                for url in (phase1_pg_url, app_url):
                    with psycopg.connect(url, autocommit=True) as app:
                        app.execute(f"SET search_path = {path}")
                        top = app.execute(
                            "SELECT last_sequence_number FROM public.conversations WHERE id = %s", (conv,)
                        ).fetchone()[0]
                        mid = uuid.uuid4()
                        app.execute(
                            "INSERT INTO public.messages (id, conversation_id, sender_id, content) "
                            "VALUES (%s, %s, gen_random_uuid(), 'search path')",
                            (mid, conv),
                        )
                        app.execute(
                            "INSERT INTO public.conversation_members (conversation_id, user_id) "
                            "VALUES (%s, gen_random_uuid())",
                            (conv,),
                        )
                        assert app.execute(
                            "SELECT sequence_number, content_tsv IS NOT NULL FROM public.messages WHERE id = %s", (mid,)
                        ).fetchone() == (top + 1, True)
            assert conn.execute("SELECT count(*) FROM elsewhere.conversations").fetchone()[0] == 0
        finally:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
    assert violations(phase1_pg_url) == {}


# --- item 7 of issue 11: statistics -----------------------------------------------------------


def test_the_rollout_leaves_statistics_and_search_uses_the_gin_index(phase1_pg_url: str) -> None:
    """Right after phase1_postgres (the template is the database as the job left it)."""
    with psycopg.connect(phase1_pg_url) as conn:
        stats = set(conn.execute(
            "SELECT tablename || '.' || attname FROM pg_stats WHERE schemaname = 'public' "
            "AND (tablename, attname) IN (('messages', 'content_tsv'), ('messages', 'sequence_number'), "
            "('conversations', 'last_sequence_number'), ('conversations', 'member_count'))"
        ).fetchall())
        assert {s[0] for s in stats} == {
            "messages.content_tsv", "messages.sequence_number",
            "conversations.last_sequence_number", "conversations.member_count",
        }
        word = conn.execute(  # a word of some message, rare enough for an index
            "SELECT w FROM (SELECT unnest(tsvector_to_array(content_tsv)) AS w FROM messages) t "
            "GROUP BY w ORDER BY count(*), w LIMIT 1"
        ).fetchone()[0]
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT id FROM messages WHERE content_tsv @@ plainto_tsquery('simple'::regconfig, %s)", (word,)
        ).fetchall())
    assert "idx_messages_content_tsv" in plan and "Seq Scan" not in plan, plan


# --- item 5: moved messages and members, TRUNCATE ------------------------------------------

GAPLESS = "numbers not exactly 1..N (no hard deletes happen in these tests)"


def _kept(url: str) -> dict[str, int]:
    """The contract's invariants; a message moved out of a conversation leaves a gap there, like a delete."""
    return {k: v for k, v in violations(url).items() if k != GAPLESS}


def test_moved_messages_and_members_keep_both_conversations_right(phase1_pg_url: str) -> None:
    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        a, b = _two_conversations(conn)
        top_a, _ = _top(conn, a)
        top_b, _ = _top(conn, b)
        newest_a = conn.execute(
            "SELECT id FROM messages WHERE conversation_id = %s ORDER BY created_at DESC, id DESC LIMIT 1", (a,)
        ).fetchone()[0]
        # A's newest message and the one holding its top number move to B.
        moved = {newest_a, conn.execute(
            "SELECT id FROM messages WHERE conversation_id = %s AND sequence_number = %s", (a, top_a)
        ).fetchone()[0]}
        conn.execute("UPDATE messages SET conversation_id = %s WHERE id = ANY(%s)", (b, list(moved)))
        numbers = sorted(r[0] for r in conn.execute(
            "SELECT sequence_number FROM messages WHERE id = ANY(%s)", (list(moved),)
        ))
        assert numbers == list(range(top_b + 1, top_b + 1 + len(moved)))
        assert _top(conn, b) == (top_b + len(moved),) * 2
        assert _top(conn, a)[0] == _top(conn, a)[1] < top_a
        # A member moves too, and the next message of A follows A's new maximum.
        conn.execute(
            "UPDATE conversation_members SET conversation_id = %s WHERE (conversation_id, user_id) = "
            "(SELECT conversation_id, user_id FROM conversation_members WHERE conversation_id = %s LIMIT 1)",
            (b, a),
        )
        mid = uuid.uuid4()
        conn.execute(SEND, (mid, a))
        assert conn.execute("SELECT sequence_number FROM messages WHERE id = %s", (mid,)).fetchone()[0] == _top(conn, a)[1]
    assert _kept(phase1_pg_url) == {}


def test_opposite_moves_and_sends_at_once(phase1_pg_url: str) -> None:
    """Two sessions move messages in opposite directions while two send: no deadlock, counters right."""
    with psycopg.connect(phase1_pg_url) as conn:
        a, b = _two_conversations(conn)
    rounds = 20
    barrier = threading.Barrier(4, timeout=WAIT_S)
    errors: list[str] = []

    def session(n: int) -> None:
        src, dst = (a, b) if n % 2 else (b, a)
        with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
            for _ in range(rounds):
                try:
                    barrier.wait()
                    if n < 2:
                        conn.execute(
                            "UPDATE messages SET conversation_id = %s WHERE id = (SELECT id FROM messages "
                            "WHERE conversation_id = %s ORDER BY sequence_number DESC LIMIT 1)",
                            (dst, src),
                        )
                    else:
                        conn.execute(SEND, (uuid.uuid4(), src))
                except (psycopg.Error, threading.BrokenBarrierError) as exc:
                    errors.append(str(exc).splitlines()[0])
                    barrier.abort()
                    return

    threads = [threading.Thread(target=session, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT_S)
    assert not errors, errors[:3]
    assert _kept(phase1_pg_url) == {}  # unique numbers, counters = max, last messages right


def test_truncate_resets_the_counters(phase1_pg_url: str) -> None:
    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        a, _ = _two_conversations(conn)
        conn.execute("TRUNCATE messages CASCADE")
        conn.execute("TRUNCATE conversation_members")
        assert conn.execute(
            "SELECT count(*) FROM conversations WHERE last_sequence_number <> 0 OR member_count <> 0 "
            "OR last_message_id IS NOT NULL OR last_message_at IS NOT NULL"
        ).fetchone()[0] == 0
        mid = uuid.uuid4()
        conn.execute(SEND, (mid, a))
        conn.execute("INSERT INTO conversation_members (conversation_id, user_id) VALUES (%s, gen_random_uuid())", (a,))
        assert conn.execute("SELECT sequence_number FROM messages WHERE id = %s", (mid,)).fetchone()[0] == 1
    assert violations(phase1_pg_url) == {}


# --- a database rolled out before these fixes --------------------------------------------------

NEW_STEPS = (
    "sequence_number/035_retry_safe_functions", "sequence_number/045_moves_and_truncate",
    "conversation_counters/025_pinned_functions", "conversation_counters/045_moves_and_truncate",
    "content_tsv/025_pinned_function",
)


def test_a_database_rolled_out_with_the_old_functions_takes_the_new_steps(phase1_pg_url: str) -> None:
    """The old functions stay ledgered as they were (no ChangedMigration); the next run applies the new steps."""
    from dbopt import sqlfiles
    from dbopt.postgres import phase1

    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        for name in ("sequence_number/045_moves_and_truncate", "conversation_counters/045_moves_and_truncate"):
            conn.execute(sqlfiles.load(f"{phase1.P}/{name}.rollback.sql"))
        for name in ("sequence_number/030_functions", "conversation_counters/020_functions"):
            conn.execute(sqlfiles.load(f"{phase1.P}/{name}.sql"))  # as the old rollout left them
        conn.execute("ALTER FUNCTION dbopt.messages_content_tsv() RESET search_path")
        conn.execute("DELETE FROM dbopt.migration_ledger WHERE step = ANY(%s)", (list(NEW_STEPS),))
    result = run_job(phase1_pg_url, "phase1_postgres")
    assert result.success, failures(result)
    with psycopg.connect(phase1_pg_url, autocommit=True) as conn:
        applied = {r[0] for r in conn.execute(
            "SELECT step FROM dbopt.migration_ledger WHERE outcome = 'applied' AND step = ANY(%s)", (list(NEW_STEPS),)
        )}
        assert applied == set(NEW_STEPS)
        unpinned = conn.execute(
            "SELECT array_agg(proname) FROM pg_proc WHERE pronamespace = 'dbopt'::regnamespace AND prorettype = "
            "'trigger'::regtype AND NOT coalesce(proconfig::text[] @> ARRAY['search_path=pg_catalog, public, pg_temp'], false)"
        ).fetchone()[0]
        assert unpinned is None
        conv, _ = _two_conversations(conn)
        x = uuid.uuid4()
        conn.execute(SEND, (x, conv))
        conn.execute(RETRY, (x, conv))
        y = uuid.uuid4()
        conn.execute(SEND, (y, conv))
        numbers = dict(conn.execute("SELECT id, sequence_number FROM messages WHERE id IN (%s, %s)", (x, y)).fetchall())
        assert numbers[y] == numbers[x] + 1
    assert violations(phase1_pg_url) == {}
