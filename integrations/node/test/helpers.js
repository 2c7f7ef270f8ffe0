// Test helpers: the scratch cluster that test/node/run.sh started (through the
// environment), a real Express app with the store listening on a loopback port, a client
// with a cookie, and a log of the statements the store sends.
'use strict';

const { exec } = require('node:child_process');
const { promisify } = require('node:util');
const express = require('express');
const session = require('express-session');
const pg = require('pg');
const { PgSessionStore } = require('..');

const execAsync = promisify(exec);

/** An environment variable test/node/run.sh sets. */
function env(name) {
    const value = process.env[name];
    if (!value) {
        throw new Error(`${name} is not set: run the tests through test/node/run.sh`);
    }
    return value;
}

const DATABASE_URL = () => env('PGSESSION_TEST_DATABASE_URL');

/** Runs pg_ctl (as the cluster's OS user) with an action: stop, start, restart. */
async function pgCtl(action) {
    await execAsync(`${env('PGSESSION_TEST_PG_CTL')} ${action}`);
}

/**
 * A pg.Pool whose query() records the pgsession function each statement calls
 * (statements.splice(0) takes the log).  Each pool.query is one statement and one round
 * trip.
 */
function countingPool(connectionString = DATABASE_URL()) {
    const pool = new pg.Pool({ connectionString, max: 4 });
    // Idle connections closed by a restart or a stop are reported here (see lib/common.js).
    pool.on('error', () => {});
    const query = pool.query.bind(pool);
    pool.statements = [];
    pool.query = (config, ...rest) => {
        const text = typeof config === 'string' ? config : config.text;
        const called = text.match(/session_[a-z_]+/);
        pool.statements.push(called ? called[0] : text);
        return query(config, ...rest);
    };
    return pool;
}

/**
 * Starts an Express app with a PgSessionStore on 127.0.0.1 and a free port.
 *   POST /login {user, maxAge?}  regenerate, keep the user (maxAge: the cookie's), save
 *   GET  /me                     {user} (null when not logged in)
 *   POST /views                  changes the session (a counter)
 *   POST /remember {maxAge}      changes only the cookie's maxAge
 *   POST /logout                 destroys the session
 * Errors reach the error handler: 500 with {error, code}.  Resolves to
 * {url, store, pool, errors, close()}.
 */
async function startApp({ rolling = false, maxAge = 60000, storeOptions = {}, pool } = {}) {
    pool = pool || countingPool();
    const store = new PgSessionStore({ pool, sub: (s) => s.user, ...storeOptions });
    const errors = [];
    const app = express();
    app.use(
        session({
            store,
            secret: SECRET,
            resave: false,
            saveUninitialized: false,
            rolling,
            cookie: maxAge === null ? {} : { maxAge },
        }),
    );
    app.use(express.json());
    app.post('/login', (req, res, next) => {
        req.session.regenerate((err) => {
            if (err) return next(err);
            req.session.user = req.body.user;
            if (req.body.maxAge !== undefined) req.session.cookie.maxAge = req.body.maxAge;
            // Saved before answering, so that a failed save is a 500 (express-session's
            // own save at the end comes after the headers).
            req.session.save((err) => (err ? next(err) : res.json({ user: req.session.user })));
        });
    });
    app.get('/me', (req, res) => res.json({ user: req.session.user ?? null }));
    app.post('/views', (req, res) => {
        req.session.views = (req.session.views ?? 0) + 1;
        res.json({ views: req.session.views });
    });
    app.post('/remember', (req, res) => {
        req.session.cookie.maxAge = req.body.maxAge;
        res.json({ maxAge: req.body.maxAge });
    });
    app.post('/logout', (req, res, next) => {
        req.session.destroy((err) => (err ? next(err) : res.json({ user: null })));
    });
    app.use((err, req, res, next) => {
        errors.push(err);
        if (res.headersSent) return;
        res.status(500).json({ error: err.message, code: err.code });
    });
    const server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${server.address().port}`;
    return {
        url,
        store,
        pool,
        errors,
        async close() {
            await new Promise((resolve) => server.close(resolve));
            server.closeAllConnections?.();
            await pool.end();
        },
    };
}

const SECRET = 'pgsession test secret';

/** A browser: keeps the session cookie between requests. */
class Client {
    constructor(url) {
        this.url = url;
        this.cookie = null;
    }

    /** Sends a request; resolves to {status, body}. */
    async request(method, path, body) {
        const headers = {};
        if (this.cookie) headers.cookie = this.cookie;
        if (body !== undefined) headers['content-type'] = 'application/json';
        const res = await fetch(this.url + path, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        for (const line of res.headers.getSetCookie()) {
            this.cookie = line.split(';')[0];
        }
        const text = await res.text();
        let parsed;
        try {
            parsed = JSON.parse(text);
        } catch {
            parsed = text;
        }
        return { status: res.status, body: parsed };
    }

    get(path) {
        return this.request('GET', path);
    }

    post(path, body = {}) {
        return this.request('POST', path, body);
    }

    /** The session id in the cookie (unsigned). */
    sessionId() {
        const value = decodeURIComponent(this.cookie.split('=')[1]);
        return value.slice(2, value.lastIndexOf('.'));
    }
}

/** A query on the test database as the superuser (for checks the store cannot make). */
async function sql(text, values = [], connectionString = DATABASE_URL()) {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
        return (await client.query(text, values)).rows;
    } finally {
        await client.end();
    }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = { Client, DATABASE_URL, SECRET, countingPool, env, pgCtl, sleep, sql, startApp };
