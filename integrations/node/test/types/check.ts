// Compiled, not run, by types.test.js: index.d.ts as an application written in TypeScript uses it.
import express from 'express';
import session from 'express-session';
import { Pool } from 'pg';
import { PgSessionStore, SessionManager } from '../..';

declare module 'express-session' {
  interface SessionData { user?: string }
}
const pool = new Pool();
const store = new PgSessionStore({ pool, sub: (s) => s.user ?? null, schema: 'x' });
const app = express();
app.use(session({ store, secret: 's', resave: false, saveUninitialized: false }));
const m = new SessionManager({ conString: 'postgres://' });
async function f() {
  await m.initialize();
  await m.createSession('id', { nonce: 'n', state: new URLSearchParams('a=b'), codeVerifier: 'v' });
  const s = await m.getSession('id');
  if (s) { const n: string | undefined = s.nonce; const st: URLSearchParams | undefined = s.state; console.log(n, st); }
  await m.updateSession('id', { accessToken: 't', sub: 'u' });
  await m.deleteSession('id');
  const got = await store.get('x');
  await store.close();
  return got;
}
f();
