// The Express app of the Node.js benchmark (bench/node/README section of bench/README.md):
// one app, its express-session store chosen by BENCH_STORE, everything else the same.
//
//   BENCH_STORE=pgsession|connect-pg-simple|redis PORT=... node app.js
//
// PostgreSQL through node-postgres's PG* variables (PGHOST, PGPORT, PGUSER, PGDATABASE),
// one pg.Pool of BENCH_POOL_SIZE connections (10); Redis at BENCH_REDIS_URL through one
// node-redis client (it pipelines every request over one connection, as connect-redis's
// users run it).  Prints "listening PORT" once it accepts requests.
//
//   POST /login?user=N  regenerates the session, stores the user (sub, name, access token)
//                       and saves it: what a login callback (Passport, OpenID Connect) does
//   GET /me             reads the session: 200 with the user, or 401 without one
//   POST /logout        destroys the session
'use strict';

const crypto = require('node:crypto');
const express = require('express');
const session = require('express-session');

const COOKIE_MAX_AGE_MS = 30 * 60 * 1000;

async function main() {
  const kind = process.env.BENCH_STORE;
  const { store, close } = await makeStore(kind);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // The same options for every store: express-session's recommended resave and
  // saveUninitialized false, its default rolling false (the cookie is sent when the
  // session is saved, not on every response), a 30-minute cookie.
  app.use(session({
    store,
    secret: 'pgsession benchmark secret',
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: { maxAge: COOKIE_MAX_AGE_MS, httpOnly: true, sameSite: 'lax' },
  }));

  app.post('/login', (req, res, next) => {
    const user = String(req.query.user || '0');
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.sub = `user-${user}`;
      req.session.name = `User ${user}`;
      req.session.accessToken = crypto.randomBytes(32).toString('base64url');
      req.session.save((saveErr) => {
        if (saveErr) return next(saveErr);
        res.json({ sub: req.session.sub });
      });
    });
  });

  app.get('/me', (req, res) => {
    if (!req.session.sub) return res.status(401).json({ error: 'not logged in' });
    res.json({ sub: req.session.sub, name: req.session.name });
  });

  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.status(204).end()));
  });

  // Errors are counted by the driver as non-2xx responses; log the first few.
  let logged = 0;
  app.use((err, req, res, next) => {
    if (logged++ < 5) console.error(`${kind}: ${err.stack || err}`);
    if (!res.headersSent) res.status(500).json({ error: 'store error' });
  });

  const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => {
    console.log(`listening ${server.address().port}`);
  });
  // On SIGTERM: stop accepting, then give the requests still running (autocannon drops
  // its connections at the end of a run, not their requests) a second to finish their
  // store calls before the pool or client is closed under them.
  const stop = () => server.close(() => setTimeout(() => close().then(() => process.exit(0)), 1000));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Started by the driver with a pipe as standard input: exit when the driver is gone,
  // however it ended.
  if (process.env.BENCH_STDIN_LIFELINE) {
    process.stdin.on('end', () => process.exit(1)).resume();
  }
}

// The store of `kind` and a function that closes its connections.
async function makeStore(kind) {
  const poolSize = Number(process.env.BENCH_POOL_SIZE || 10);
  if (kind === 'pgsession' || kind === 'connect-pg-simple') {
    const pg = require('pg');
    const pool = new pg.Pool({ max: poolSize });
    let store;
    if (kind === 'pgsession') {
      const { PgSessionStore } = require('pgsession');
      store = new PgSessionStore({ pool, sub: (sess) => sess.sub });
    } else {
      // connect-pg-simple's defaults: table "session" (created by bench/node/run.sh from
      // its table.sql), touch on, expired rows pruned every 15 minutes.
      const PgStore = require('connect-pg-simple')(session);
      store = new PgStore({ pool });
    }
    return { store, close: () => pool.end() };
  }
  if (kind === 'redis') {
    const { createClient } = require('redis');
    const { RedisStore } = require('connect-redis');
    const client = createClient({ url: process.env.BENCH_REDIS_URL });
    client.on('error', (err) => console.error(`redis: ${err}`));
    await client.connect();
    return { store: new RedisStore({ client }), close: () => client.quit() };
  }
  throw new Error(`BENCH_STORE must be pgsession, connect-pg-simple or redis, not ${kind}`);
}

main().catch((err) => {
  console.error(err.stack || err);
  process.exit(1);
});
