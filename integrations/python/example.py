# example.py: a login flow over pgsession's SQL functions with psycopg 3.
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python3 example.py
import os

import psycopg

with psycopg.connect(os.environ.get("DATABASE_URL", ""), autocommit=True) as conn:
    # The login starts: a session with the OIDC nonce, state and PKCE verifier.
    token = conn.execute(
        "SELECT session_create(nonce => %s, state => %s, code_verifier => %s)",
        ("n-0S6_WzA2Mj", "af0ifjsldkj", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    ).fetchone()[0]

    # The callback: check the state, keep the tokens, forget the login secrets.
    (state,) = conn.execute("SELECT state FROM session_get(%s)", (token,)).fetchone()
    assert state == "af0ifjsldkj"
    conn.execute(
        "SELECT session_update(%s, access_token => %s, sub => %s, clear => %s)",
        (token, "eyJhbGciOi...", "user-42", ["nonce", "state", "code_verifier"]),
    )

    # Logged in: a new token for the same session (session fixation defence).
    token = conn.execute("SELECT session_rotate(%s)", (token,)).fetchone()[0]

    # Every request: no row means not logged in (unknown, expired or malformed token).
    sub, access_token = conn.execute(
        "SELECT sub, access_token FROM session_get(%s)", (token,)
    ).fetchone()
    print("logged in as", sub)

    # Logout.
    (was_live,) = conn.execute("SELECT session_delete(%s)", (token,)).fetchone()
    row = conn.execute("SELECT * FROM session_get(%s)", (token,)).fetchone()
    print("logged out:", was_live, row is None)
