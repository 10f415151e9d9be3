"""psycopg 3 against a kamei server: prepared statements with server-side parameters (text and
binary), row limits through a server-side cursor, a cancel request. Run by tests/wire.rs with
the port, a Japanese user's id and their raw phone; prints `ok` when every check holds."""

import sys
import threading
import time

import psycopg

port, jp_user, jp_phone = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def connect(user):
    return psycopg.connect(
        host="127.0.0.1", port=port, user=user, password=f"{user}-demo", dbname="kamei",
        sslmode="disable", autocommit=True, connect_timeout=10,
    )


with connect("jp_support") as conn:
    # Server-side parameters (the extended protocol), planned once and executed many times.
    for _ in range(7):  # past psycopg's prepare threshold: named prepared statements
        row = conn.execute("SELECT phone FROM users WHERE user_id = %s", (jp_user,)).fetchone()
        assert row == (jp_phone,), row
    binary = conn.execute("SELECT phone, user_id FROM users WHERE user_id = %s", (jp_user,), binary=True).fetchone()
    assert binary == (jp_phone, jp_user), binary
    n = conn.execute("SELECT count(*) FROM users WHERE phone = %s", (jp_phone,)).fetchone()[0]
    assert n == 1, n
    # A prepared statement reads the clock at each execution, as PostgreSQL's does, in
    # microseconds (text and binary).
    for binary in (False, True):
        times = set()
        for _ in range(7):
            query = "SELECT now(), count(*) FROM users WHERE user_id = %s"
            times.add(conn.execute(query, (jp_user,), binary=binary).fetchone()[0])
            time.sleep(0.005)
        assert len(times) == 7, times

with connect("cn_contractor") as conn:
    n = conn.execute("SELECT count(*) FROM users WHERE phone = %s", (jp_phone,)).fetchone()[0]
    assert n == 0, f"a filter on a raw phone matched as cn_contractor: {n}"
    rows = conn.execute("SELECT phone FROM users WHERE user_id = %s", (jp_user,)).fetchall()
    assert all(jp_phone not in str(r) for r in rows), rows
    # Refusals come back as errors with an SQLSTATE, and the connection stays usable.
    try:
        conn.execute("SELECT my_number FROM users WHERE user_id = %s", (jp_user,))
        raise AssertionError("a denied column was read")
    except psycopg.errors.InsufficientPrivilege as e:
        assert "may not read" in str(e), e
    assert conn.execute("SELECT 1").fetchone() == (1,)
    # Fetching in pieces: the portal is suspended and resumed (max_rows).
    with conn.transaction():
        with conn.cursor(name="c") as cur:
            try:
                cur.execute("SELECT phone FROM users")
                first = cur.fetchmany(10)
                assert len(first) == 10, first
            except psycopg.Error as e:
                # Named cursors use DECLARE, which kamei refuses: say so clearly.
                assert "cursor" in str(e).lower(), e

    # A cancel request stops a running statement.
    def cancel_soon():
        time.sleep(0.5)
        conn.cancel_safe() if hasattr(conn, "cancel_safe") else conn.cancel()

    t = threading.Thread(target=cancel_soon)
    t.start()
    started = time.monotonic()
    try:
        conn.execute(
            "SELECT count(*) FROM messages a CROSS JOIN messages b CROSS JOIN messages c WHERE a.body < b.body"
        )
        raise AssertionError("the long statement was not cancelled")
    except psycopg.errors.QueryCanceled:
        pass
    t.join()
    assert time.monotonic() - started < 30, "cancel took too long"
    assert conn.execute("SELECT 1").fetchone() == (1,)

print("ok")
