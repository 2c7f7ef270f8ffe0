// PgSessionStore under a real Express app: the login flow, what each request sends to
// the database, the cookie's maxAge as the idle timeout, tampered cookies, concurrent
// saves, the schema option and database errors.
'use strict';

const assert = require('node:assert/strict');
const { after, before, describe, test } = require('node:test');
const signature = require('cookie-signature');
const { PgSessionStore } = require('..');
const { Client, SECRET, countingPool, env, sql, startApp } = require('./helpers');

// The stored row of a session id, read as the superuser.
async function row(sid) {
    const rows = await sql(
        `SELECT sub, data, extract(epoch FROM idle_timeout) * 1000 AS idle_ms
           FROM pgsession.sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`,
        [sid],
    );
    return rows[0];
}

for (const rolling of [false, true]) {
    describe(`express app, rolling ${rolling}`, () => {
        let app;
        before(async () => {
            app = await startApp({ rolling });
        });
        after(() => app.close());

        test('login, GET with the cookie, logout: the statements of each request', async () => {
            const browser = new Client(app.url);
            app.pool.statements.splice(0);

            // A browser without a session logs in: regenerate has nothing to delete.
            let res = await browser.post('/login', { user: 'ada' });
            assert.deepEqual(res, { status: 200, body: { user: 'ada' } });
            assert.deepEqual(app.pool.statements.splice(0), ['session_save']);

            // Every later request reads the session; touch() writes nothing.
            for (let i = 0; i < 3; i++) {
                res = await browser.get('/me');
                assert.deepEqual(res, { status: 200, body: { user: 'ada' } });
            }
            assert.deepEqual(app.pool.statements.splice(0), ['session_get', 'session_get', 'session_get']);

            // A change is one save.
            res = await browser.post('/views');
            assert.deepEqual(res.body, { views: 1 });
            assert.deepEqual(app.pool.statements.splice(0), ['session_get', 'session_save']);

            // Logging in again from a session that is stored: read, delete the old id, save.
            const before = browser.sessionId();
            res = await browser.post('/login', { user: 'bob' });
            assert.equal(res.body.user, 'bob');
            assert.deepEqual(app.pool.statements.splice(0), ['session_get', 'session_delete', 'session_save']);
            assert.notEqual(browser.sessionId(), before, 'regenerate gave a new id');
            assert.equal(await row(before), undefined, 'the old id is gone');

            const stored = await row(browser.sessionId());
            assert.equal(stored.sub, 'bob', 'sub() went into the sub column');
            assert.equal(stored.data.user, 'bob');
            assert.equal(stored.data.views, undefined, 'regenerate started a fresh session');

            res = await browser.post('/logout');
            assert.deepEqual(res, { status: 200, body: { user: null } });
            assert.deepEqual(app.pool.statements.splice(0), ['session_get', 'session_delete']);
            assert.equal(await row(browser.sessionId()), undefined);

            res = await browser.get('/me');
            assert.deepEqual(res, { status: 200, body: { user: null } });
            assert.deepEqual(app.errors, []);
        });

        test("the cookie's maxAge is the session's idle timeout", async () => {
            const browser = new Client(app.url);
            await browser.post('/login', { user: 'ada', maxAge: 90000 });
            const stored = await row(browser.sessionId());
            assert.equal(Number(stored.idle_ms), 90000);
            assert.equal(stored.data.cookie.originalMaxAge, 90000);
        });

        test("a changed cookie maxAge reaches the database through touch()", async () => {
            const browser = new Client(app.url);
            await browser.post('/login', { user: 'ada', maxAge: 90000 });
            app.pool.statements.splice(0);
            // Only the cookie changes: express-session calls touch(), not set().
            await browser.post('/remember', { maxAge: 30 * 86400000 });
            assert.deepEqual(app.pool.statements.splice(0), ['session_get', 'session_save']);
            assert.equal(Number((await row(browser.sessionId())).idle_ms), 30 * 86400000);
            // Then requests are reads again.
            await browser.get('/me');
            await browser.get('/me');
            assert.deepEqual(app.pool.statements.splice(0), ['session_get', 'session_get']);
        });
    });
}

describe('express app, cookie without maxAge', () => {
    let app;
    before(async () => {
        app = await startApp({ maxAge: null });
    });
    after(() => app.close());

    test('a browser-session cookie takes pgsession.idle_timeout', async () => {
        const browser = new Client(app.url);
        await browser.post('/login', { user: 'ada' });
        const [{ idle_ms: setting }] = await sql(
            "SELECT extract(epoch FROM current_setting('pgsession.idle_timeout')::interval) * 1000 AS idle_ms",
        );
        assert.equal(Number((await row(browser.sessionId())).idle_ms), Number(setting));
        assert.equal((await browser.get('/me')).body.user, 'ada');
    });
});

describe('tampered cookies', () => {
    let app;
    before(async () => {
        app = await startApp();
    });
    after(() => app.close());

    const signed = (id) => 'connect.sid=' + encodeURIComponent('s:' + signature.sign(id, SECRET));
    const cases = {
        'a bad signature': () => {
            const good = signed('fWm3fKd1mDz0cE5v7nQ2rL8aT4yB6uH9');
            return good.slice(0, -3) + 'AAA';
        },
        garbage: () => 'connect.sid=%%%;;;\u00ff',
        'an over-long value': () => 'connect.sid=' + 'x'.repeat(6000),
        'a valid-looking unknown id': () => signed('fWm3fKd1mDz0cE5v7nQ2rL8aT4yB6uH9'),
        'a signed id too long for pgsession': () => signed('y'.repeat(1000)),
        'a signed id with characters no session id has': () => signed('has spaces; and "quotes"\\'),
        'a signed id with a NUL': () => signed('abcdefghijklmnop\u0000qrstuvwxyz'),
    };
    for (const [name, cookie] of Object.entries(cases)) {
        test(`${name} reads as no session, with a 200`, async () => {
            const browser = new Client(app.url);
            browser.cookie = cookie();
            const res = await browser.get('/me');
            assert.deepEqual(res, { status: 200, body: { user: null } });
            assert.deepEqual(app.errors, []);
        });
    }

    test('the store reads malformed ids as no session', async () => {
        for (const sid of ['', 'short', 'z'.repeat(256), 'a b c d e f g h i j', 'x\u0000'.repeat(10)]) {
            assert.equal(await app.store.get(sid), null, JSON.stringify(sid));
            await app.store.destroy(sid);
        }
    });
});

describe('the store itself', () => {
    let pool;
    let store;
    before(() => {
        pool = countingPool();
        store = new PgSessionStore({ pool });
    });
    after(() => pool.end());

    const cookie = { originalMaxAge: 60000, expires: new Date(Date.now() + 60000), httpOnly: true, path: '/' };

    test('concurrent first saves of one id all succeed, and one of them is stored', async () => {
        const sid = 'concurrent-first-save-' + Date.now();
        const saves = [];
        for (let i = 0; i < 12; i++) {
            saves.push(store.set(sid, { cookie, n: i }));
        }
        const results = await Promise.allSettled(saves);
        assert.deepEqual(results.filter((r) => r.status === 'rejected'), []);
        const session = await store.get(sid);
        assert.ok(session.n >= 0 && session.n < 12);
        const [{ count }] = await sql(
            "SELECT count(*)::int AS count FROM pgsession.sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))",
            [sid],
        );
        assert.equal(count, 1);
    });

    test("touch(): nothing for a maxAge a clock tick off, a save for a changed one", async () => {
        const sid = 'touch-drift-' + Date.now();
        await store.set(sid, { cookie, x: 1 });
        pool.statements.splice(0);
        const loaded = await store.get(sid);
        loaded.cookie.originalMaxAge -= 2; // as express-session's cookie reset can leave it
        await store.touch(sid, loaded);
        assert.deepEqual(pool.statements.splice(0), ['session_get']);
        loaded.cookie.originalMaxAge = 120000;
        await store.touch(sid, loaded);
        assert.deepEqual(pool.statements.splice(0), ['session_save']);
        assert.equal((await store.get(sid)).cookie.originalMaxAge, 120000);
    });

    test('a repeated identical save of one session object within a second is answered by the first', async () => {
        const sid = 'repeat-save-' + Date.now();
        const session = { cookie: { ...cookie }, x: 1 };
        pool.statements.splice(0);
        await Promise.all([store.set(sid, session), store.set(sid, session)]);
        session.cookie.originalMaxAge -= 1;
        session.cookie.expires = new Date(Date.now() + 59999);
        await store.set(sid, session);
        assert.deepEqual(pool.statements.splice(0), ['session_save'], 'same content: one save');
        session.x = 2;
        await store.set(sid, session);
        await store.set('other-' + sid, session);
        assert.deepEqual(pool.statements.splice(0), ['session_save', 'session_save'], 'changed: saved');
        assert.equal((await store.get(sid)).x, 2);
        pool.statements.splice(0);
        await new Promise((resolve) => setTimeout(resolve, 1100));
        await store.set(sid, session);
        await store.set(sid, { ...session });
        assert.deepEqual(pool.statements.splice(0), ['session_save', 'session_save'], 'later, or another object: saved');
    });

    test('callback style, as express-session calls it', async () => {
        const sid = 'callback-style-' + Date.now();
        await new Promise((resolve, reject) =>
            store.set(sid, { cookie, x: 1 }, (err) => (err ? reject(err) : resolve())),
        );
        const got = await new Promise((resolve, reject) =>
            store.get(sid, (err, s) => (err ? reject(err) : resolve(s))),
        );
        assert.equal(got.x, 1);
        await new Promise((resolve, reject) => store.destroy(sid, (err) => (err ? reject(err) : resolve())));
        const gone = await new Promise((resolve, reject) =>
            store.get(sid, (err, s) => (err ? reject(err) : resolve(s))),
        );
        assert.equal(gone, null);
    });

    test('a session saved without a cookie (not by an express store) is no session', async () => {
        const sid = 'no-cookie-' + Date.now();
        await sql("SELECT session_save($1, '{\"x\": 1}')", [sid]);
        assert.equal(await store.get(sid), null);
    });

    test('no all, length or clear: the table keeps digests, not ids', () => {
        for (const method of ['all', 'length', 'clear']) {
            assert.equal(typeof store[method], 'undefined', method);
        }
    });

    test('a database error reaches the callback with its SQLSTATE', async () => {
        // An id the application chose must be a cookie value: session_save refuses this one.
        const err = await new Promise((resolve) => store.set('bad id; with spaces', { cookie }, resolve));
        assert.ok(err instanceof Error);
        assert.match(err.code, /^[0-9A-Z]{5}$/);
        assert.match(err.message, /cookie/);
    });

    test('a database without pgsession: 42883 through the app to its error handler', async () => {
        const url = new URL(env('PGSESSION_TEST_DATABASE_URL'));
        url.pathname = '/postgres';
        const app = await startApp({ pool: countingPool(url.toString()) });
        try {
            const res = await new Client(app.url).post('/login', { user: 'ada' });
            assert.equal(res.status, 500);
            assert.equal(res.body.code, '42883');
            assert.match(res.body.error, /session_save/);
        } finally {
            await app.close();
        }
    });
});

describe('schema option', () => {
    test('calls the functions in a schema whose name needs quoting', async () => {
        const url = env('PGSESSION_TEST_SCHEMA_DATABASE_URL');
        const schema = env('PGSESSION_TEST_SCHEMA');
        const app = await startApp({ pool: countingPool(url), storeOptions: { schema } });
        try {
            const browser = new Client(app.url);
            assert.equal((await browser.post('/login', { user: 'ada' })).body.user, 'ada');
            assert.equal((await browser.get('/me')).body.user, 'ada');
            assert.equal((await browser.post('/logout')).status, 200);
            assert.equal((await browser.get('/me')).body.user, null);
            assert.deepEqual(app.errors, []);
        } finally {
            await app.close();
        }
    });

    test('preparedStatements: false sends unnamed statements (for PgBouncer in transaction mode)', async () => {
        const pool = countingPool();
        const names = [];
        const query = pool.query;
        pool.query = (config, ...rest) => {
            names.push(config.name);
            return query(config, ...rest);
        };
        const app = await startApp({ pool, storeOptions: { preparedStatements: false } });
        try {
            const browser = new Client(app.url);
            assert.equal((await browser.post('/login', { user: 'ada' })).body.user, 'ada');
            assert.equal((await browser.get('/me')).body.user, 'ada');
            assert.deepEqual(names, [undefined, undefined]);
            assert.deepEqual(app.errors, []);
        } finally {
            await app.close();
        }
    });

    test('a store with conString makes its own pool and ends it on close()', async () => {
        const store = new PgSessionStore({
            conString: env('PGSESSION_TEST_SCHEMA_DATABASE_URL'),
            schema: env('PGSESSION_TEST_SCHEMA'),
        });
        assert.equal(await store.get('unknown-session-id-0123456789'), null);
        await store.close();
        assert.equal(store.connection.pool.ending, true);
    });
});
