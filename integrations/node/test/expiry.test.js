// Idle expiry from a short cookie maxAge: a session in use stays alive (pgsession records
// an access at least every half idle timeout, and the store must not defeat that), an
// idle one is logged out.
'use strict';

const assert = require('node:assert/strict');
const { test } = require('node:test');
const { Client, sleep, sql, startApp } = require('./helpers');

// maxAge 2 s: requests every 0.5 s for 5 s (more than twice the maxAge) stay logged in,
// then 3 s of idleness log out.
async function inUseThenIdle(rolling) {
    const app = await startApp({ rolling, maxAge: 2000 });
    try {
        const browser = new Client(app.url);
        assert.equal((await browser.post('/login', { user: 'ada' })).body.user, 'ada');
        const started = Date.now();
        let requests = 0;
        while (Date.now() - started < 5000) {
            await sleep(500);
            const res = await browser.get('/me');
            requests++;
            assert.deepEqual(res.body, { user: 'ada' }, `logged out after ${Date.now() - started} ms in use`);
        }
        assert.ok(requests >= 8);
        await sleep(3000);
        assert.deepEqual((await browser.get('/me')).body, { user: null }, 'still logged in after 3 s idle');
        assert.deepEqual(app.errors, []);
    } finally {
        await app.close();
    }
}

test('maxAge 2 s, rolling cookie: in use for 5 s stays logged in, idle 3 s logs out', () => inUseThenIdle(true));

test('maxAge 2 s, fixed cookie: the database still slides with use', () => inUseThenIdle(false));

test('a maxAge made longer by touch() keeps an idle session alive', async () => {
    const app = await startApp({ rolling: true, maxAge: 1000 });
    try {
        const browser = new Client(app.url);
        await browser.post('/login', { user: 'ada' });
        // "Remember me": only the cookie changes, so express-session calls touch().
        await browser.post('/remember', { maxAge: 60000 });
        await sleep(2500);
        assert.deepEqual((await browser.get('/me')).body, { user: 'ada' });
    } finally {
        await app.close();
    }
});

test('absoluteTimeout ends a session in use; 0 gives it no absolute limit', async () => {
    const app = await startApp({ storeOptions: { absoluteTimeout: 1500 } });
    const unlimited = await startApp({ storeOptions: { absoluteTimeout: 0 } });
    try {
        const browser = new Client(app.url);
        await browser.post('/login', { user: 'ada' });
        assert.deepEqual((await browser.get('/me')).body, { user: 'ada' });
        await sleep(1700);
        assert.deepEqual((await browser.get('/me')).body, { user: null }, 'still logged in past 1.5 s');

        const other = new Client(unlimited.url);
        await other.post('/login', { user: 'bob' });
        const [{ absolute }] = await sql(
            `SELECT absolute_expires_at AS absolute FROM pgsession.sessions
              WHERE id_hash = sha256(convert_to($1, 'UTF8'))`,
            [other.sessionId()],
        );
        assert.equal(absolute, null);
    } finally {
        await app.close();
        await unlimited.close();
    }
});
