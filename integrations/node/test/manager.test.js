// SessionManager: the original design's "Usage" section run as it is written there, then
// the edge cases (unknown, deleted and expired ids, a live id taken again, no extension).
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { after, before, describe, test } = require('node:test');
const pg = require('pg');
const { SessionManager: PgSessionManager } = require('..');
const { DATABASE_URL, env, sleep } = require('./helpers');

let pool;
let SessionManager;
before(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL() });
    SessionManager = new PgSessionManager({ pool });
    await SessionManager.initialize();
});
after(async () => {
    await SessionManager.shutdown();
    await pool.end();
});

test("the original design's usage, as written there", async () => {
    const sessionId = crypto.randomUUID();
    const logged = [];
    const console = { log: (...args) => logged.push(args.join(' ')) };

    // --- "Creating a Session"
    await SessionManager.createSession(sessionId, {
      nonce: "auth-nonce",
      state: new URLSearchParams("param=value"),
      codeVerifier: "pkce-verifier",
    });

    // --- "Retrieving a Session"
    const session = await SessionManager.getSession(sessionId);
    if (session) {
      // Session exists and is not expired
      console.log(session.nonce);
    }

    // --- "Updating a Session"
    await SessionManager.updateSession(sessionId, {
      accessToken: "new-token",
      sub: "user-id",
    });

    // --- "Deleting a Session"
    await SessionManager.deleteSession(sessionId);
    // --- end of the original's usage

    assert.deepEqual(logged, ['auth-nonce']);
    assert.ok(session.state instanceof URLSearchParams);
    assert.equal(session.state.get('param'), 'value');
    assert.equal(session.codeVerifier, 'pkce-verifier');
    assert.equal(session.accessToken, undefined);
    assert.ok(session.expiresAt > session.createdAt);
    assert.equal(await SessionManager.getSession(sessionId), null, 'deleted');
});

describe('SessionManager edge cases', () => {
    test('an update is read back, null clears a field', async () => {
        const id = crypto.randomUUID();
        await SessionManager.createSession(id, { nonce: 'n', state: 'a=1', codeVerifier: 'v' });
        await SessionManager.updateSession(id, { accessToken: 'tok', sub: 'user-1', nonce: null, state: null });
        const s = await SessionManager.getSession(id);
        assert.equal(s.accessToken, 'tok');
        assert.equal(s.sub, 'user-1');
        assert.equal(s.nonce, undefined);
        assert.equal(s.state, undefined);
        assert.equal(s.codeVerifier, 'v');
        await SessionManager.deleteSession(id);
    });

    test('unknown and malformed ids: null, and update / delete do nothing', async () => {
        // 'a\0b': a cookie of "%00" decodes to a NUL, which no text parameter can carry.
        for (const id of [crypto.randomUUID(), 'short', 'x'.repeat(300), 'with spaces in it!!', 'a\0b']) {
            assert.equal(await SessionManager.getSession(id), null);
            await SessionManager.updateSession(id, { accessToken: 't' });
            await SessionManager.deleteSession(id);
            assert.equal(await SessionManager.getSession(id), null);
        }
        assert.equal(await SessionManager.getSession(undefined), null);
    });

    test('a deleted id is gone for good: get null, update does not bring it back', async () => {
        const id = crypto.randomUUID();
        await SessionManager.createSession(id, { nonce: 'n' });
        await SessionManager.deleteSession(id);
        await SessionManager.updateSession(id, { sub: 'user-2' });
        assert.equal(await SessionManager.getSession(id), null);
        await SessionManager.deleteSession(id);
    });

    test('an expired session is null, and its id can be created again', async () => {
        const short = new PgSessionManager({ pool, idleTimeout: 500 });
        const id = crypto.randomUUID();
        await short.createSession(id, { nonce: 'n' });
        assert.equal((await short.getSession(id)).nonce, 'n');
        await sleep(1000);
        assert.equal(await short.getSession(id), null);
        await short.updateSession(id, { sub: 'user-3' });
        assert.equal(await short.getSession(id), null);
        await short.createSession(id, { nonce: 'again' });
        assert.equal((await short.getSession(id)).nonce, 'again');
        await short.deleteSession(id);
    });

    test('the absoluteTimeout option: 0 for none', async () => {
        const unlimited = new PgSessionManager({ pool, absoluteTimeout: 0 });
        const limited = new PgSessionManager({ pool, absoluteTimeout: 3600000 });
        const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
        await unlimited.createSession(a, {});
        await limited.createSession(b, {});
        const absolute = async (id) =>
            (await pool.query(
                `SELECT extract(epoch FROM absolute_expires_at - created_at) AS s FROM pgsession.sessions
                  WHERE id_hash = sha256(convert_to($1, 'UTF8'))`,
                [id],
            )).rows[0].s;
        assert.equal(await absolute(a), null);
        assert.equal(Number(await absolute(b)), 3600);
        await unlimited.deleteSession(a);
        await limited.deleteSession(b);
    });

    test('creating a live id again fails with 23505', async () => {
        const id = crypto.randomUUID();
        await SessionManager.createSession(id, {});
        await assert.rejects(SessionManager.createSession(id, {}), { code: '23505' });
        await SessionManager.deleteSession(id);
    });

    test('createSession without an id is a TypeError, not a session nobody knows', async () => {
        await assert.rejects(SessionManager.createSession(undefined, {}), TypeError);
    });

    test('initialize() where pgsession is not installed: 42883, saying so', async () => {
        const url = new URL(DATABASE_URL());
        url.pathname = '/postgres';
        const manager = new PgSessionManager({ conString: url.toString() });
        await assert.rejects(manager.initialize(), { code: '42883', message: /pgsession is not installed/ });
        await manager.shutdown();
    });

    test('the schema option', async () => {
        const manager = new PgSessionManager({
            conString: env('PGSESSION_TEST_SCHEMA_DATABASE_URL'),
            schema: env('PGSESSION_TEST_SCHEMA'),
        });
        await manager.initialize();
        const id = crypto.randomUUID();
        await manager.createSession(id, { nonce: 'n' });
        assert.equal((await manager.getSession(id)).nonce, 'n');
        await manager.deleteSession(id);
        assert.equal(await manager.getSession(id), null);
        await manager.shutdown();
    });
});
