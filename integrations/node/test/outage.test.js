// The database goes away: a restart between two requests loses no session; while it is
// stopped, requests fail with a clear error through the app's error handler; once it is
// back, the same app (same pool, not restarted) serves the same sessions again.
'use strict';

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');
const { Client, pgCtl, startApp } = require('./helpers');

let app;
before(async () => {
    app = await startApp();
});
after(async () => {
    await pgCtl('start').catch(() => {}); // whatever a failed test left
    await app.close();
});

test('a session survives pg_ctl restart between two requests', async () => {
    const browser = new Client(app.url);
    await browser.post('/login', { user: 'ada' });
    assert.equal((await browser.get('/me')).body.user, 'ada');
    await pgCtl('restart');
    const res = await browser.get('/me');
    assert.deepEqual(res, { status: 200, body: { user: 'ada' } });
});

test('database stopped: a 500 with the connection error; started: the app recovers', async () => {
    const browser = new Client(app.url);
    await browser.post('/login', { user: 'bob' });
    await pgCtl('stop');
    try {
        app.errors.splice(0);
        const res = await browser.get('/me');
        assert.equal(res.status, 500);
        assert.equal(res.body.code, 'ECONNREFUSED');
        assert.equal(app.errors.length, 1);
        assert.equal(app.errors[0].code, 'ECONNREFUSED');
        // A login fails the same way.
        assert.equal((await new Client(app.url).post('/login', { user: 'eve' })).status, 500);
    } finally {
        await pgCtl('start');
    }
    const res = await browser.get('/me');
    assert.deepEqual(res, { status: 200, body: { user: 'bob' } });
    assert.equal((await new Client(app.url).post('/login', { user: 'eve' })).status, 200);
});
