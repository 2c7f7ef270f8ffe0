// The driver of the Node.js benchmark (bench/README.md, "The Node.js figures"): runs
// bench/node/app.js once per store and round, loads it with autocannon, and writes the
// figures into bench/results/latest.json (beside bench.py's) and bench/results/node.json.
//
//   node driver.js --mode quick|full --results DIR
//
// Started by bench/node/run.sh, which starts the servers and passes them in the
// environment: PGHOST/PGPORT/PGUSER/PGDATABASE (the app's database), BENCH_PG_PID (the
// postmaster, whose process tree is the database's CPU), BENCH_PG_LOG (its log, read to
// list the statements of each request), and per Redis server BENCH_REDIS_URL /
// BENCH_REDIS_PID (appendonly no) and BENCH_REDIS_AOF_URL / BENCH_REDIS_AOF_PID
// (appendonly yes, appendfsync always), or BENCH_REDIS_SKIPPED with the reason.
//
// Each round runs every store once, in an order that reverses every round (A B C D,
// D C B A, ...); in its own app process each store gets a warm-up, then GET /me for the
// measured length (each request with the next user's cookie, out of users logged in
// beforehand), then POST /login for the same length (each request a new login).  A figure
// is the median over rounds of pgsession's value over its baseline's in the same round.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const autocannon = require('autocannon');

// users: sessions logged in per store before the rounds (GET /me cycles through them);
// seconds: one measured run; warmup: seconds of each kind before them; rounds: rounds;
// connections: autocannon's concurrent connections; counted: requests of each kind whose
// statements are listed.
const MODES = {
  quick: { users: 10_000, rounds: 5, seconds: 4, warmup: 1, connections: 10, counted: 20 },
  full: { users: 100_000, rounds: 5, seconds: 15, warmup: 3, connections: 10, counted: 100 },
};
const APP = path.join(__dirname, 'app.js');
const START_TIMEOUT_MS = 20_000;
const FIGURE_PREFIX = 'Node ';
const CLK_TCK = 100; // USER_HZ: /proc's clock ticks, 100 on every Linux architecture

const children = new Set();

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const cfg = MODES[args.mode];
  const started = Date.now();
  const stores = storeList();
  const skipped = Object.fromEntries(stores.filter((s) => s.skipped).map((s) => [s.key, s.skipped]));
  const active = stores.filter((s) => !s.skipped);
  for (const [key, reason] of Object.entries(skipped)) log(`  ${key}: skipped: ${reason}`);

  log(`== logging in ${cfg.users.toLocaleString('en')} users per store`);
  const cookies = {};
  for (const store of active) {
    const app = await startApp(store);
    try {
      cookies[store.key] = await loginUsers(app.port, cfg.users, cfg.connections);
      await checkApp(app.port, cookies[store.key]);
    } finally {
      await stopApp(app);
    }
    log(`  ${store.label}: ${cookies[store.key].length.toLocaleString('en')} sessions`);
  }

  const rounds = [];
  for (let r = 0; r < cfg.rounds; r++) {
    const order = r % 2 === 0 ? active : [...active].reverse();
    log(`== round ${r + 1} of ${cfg.rounds}: ${order.map((s) => s.key).join(', ')}`);
    const round = {};
    for (const store of order) {
      round[store.key] = await runRound(store, cookies[store.key], cfg, r);
      const g = round[store.key].get;
      const p = round[store.key].login;
      const wal = (m) => (m.walBytes === null ? '' : `, ${fmt(m.walBytes)} B WAL`);
      log(`  ${store.label.padEnd(26)} GET /me ${fmt(g.rps)} req/s (${fmt(g.cpuUs)} us CPU${wal(g)}),` +
          ` POST /login ${fmt(p.rps)} req/s (${fmt(p.cpuUs)} us CPU${wal(p)})`);
    }
    rounds.push(round);
  }

  log('== statements per request');
  const statements = {};
  for (const store of active) {
    statements[store.key] = await countStatements(store, cookies[store.key], cfg.counted);
  }

  const figures = makeFigures(rounds, skipped, cfg);
  const doc = {
    mode: args.mode,
    config: cfg,
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
    seconds: Math.round((Date.now() - started) / 1000),
    stores: Object.fromEntries(stores.map((s) => [s.key, s.label])),
    skipped,
    medians: medians(rounds, active),
    statements,
    rounds,
    figures,
  };
  fs.writeFileSync(path.join(args.results, 'node.json'), JSON.stringify(doc, null, 2) + '\n');
  mergeLatest(path.join(args.results, 'latest.json'), doc);
  printStatements(statements, active);
  if (walClient) await walClient.end();
  const errors = rounds.flatMap((round) => Object.values(round))
    .reduce((n, s) => n + s.get.errors + s.login.errors, 0);
  if (errors) {
    log(`${errors} requests failed (non-2xx, errors or timeouts); see node.json`);
    process.exitCode = 1;
  }
}

// ------------------------------------------------------------------ stores and servers

// The stores compared, each with what its app process needs and which server it uses.
function storeList() {
  const env = process.env;
  const pg = { name: 'database', ticks: () => treeTicks(Number(env.BENCH_PG_PID)), wal: walPosition };
  const redisServer = (pid) => ({ name: 'redis', ticks: () => procTicks(Number(pid)),
                                  wal: async () => null });
  const stores = [
    { key: 'pgsession', label: 'pgsession', env: { BENCH_STORE: 'pgsession' }, server: pg },
    { key: 'cps', label: 'connect-pg-simple', env: { BENCH_STORE: 'connect-pg-simple' }, server: pg },
    { key: 'redis', label: 'Redis, appendonly no', server: redisServer(env.BENCH_REDIS_PID),
      env: { BENCH_STORE: 'redis', BENCH_REDIS_URL: env.BENCH_REDIS_URL } },
    { key: 'redis-aof', label: 'Redis, appendfsync always',
      server: redisServer(env.BENCH_REDIS_AOF_PID),
      env: { BENCH_STORE: 'redis', BENCH_REDIS_URL: env.BENCH_REDIS_AOF_URL } },
  ];
  try {
    require.resolve('pgsession');
  } catch {
    stores[0].skipped = 'the pgsession package (integrations/node) is not installed';
  }
  for (const s of stores.slice(2)) {
    if (!s.env.BENCH_REDIS_URL) s.skipped = env.BENCH_REDIS_SKIPPED || 'no Redis server given';
  }
  return stores;
}

// Starts app.js for `store` on a free port; resolves once it listens.
function startApp(store) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APP], {
      env: { ...process.env, ...store.env, PORT: '0', BENCH_STDIN_LIFELINE: '1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.add(child);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${store.label}: the app did not start in ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), pid: child.pid });
      }
    });
    child.on('exit', (code) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`${store.label}: the app exited with ${code} before listening`));
    });
  });
}

// Stops an app: SIGTERM (it closes its pool), SIGKILL after 5 s.
function stopApp(app) {
  return new Promise((resolve) => {
    if (app.child.exitCode !== null || app.child.signalCode !== null) return resolve();
    const timer = setTimeout(() => app.child.kill('SIGKILL'), 5000);
    app.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    app.child.kill('SIGTERM');
  });
}

function killChildren() {
  for (const child of children) child.kill('SIGKILL');
}

// ------------------------------------------------------------------ load

// Logs in `count` users through POST /login and returns their cookies ("sid=...").
async function loginUsers(port, count, connections) {
  const cookies = [];
  let next = 0;
  const result = await cannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    amount: count,
    requests: [{
      method: 'POST',
      setupRequest: (req) => ({ ...req, path: `/login?user=${next++}` }),
      onResponse: (status, body, context, headers) => {
        const cookie = header(headers, 'set-cookie');
        if (status === 200 && cookie) cookies.push(String(cookie).split(';')[0]);
      },
    }],
  });
  if (cookies.length !== count) {
    throw new Error(`logged in ${cookies.length} of ${count} users (${result.non2xx} non-2xx, ` +
                    `${result.errors} errors)`);
  }
  return shuffle(cookies);
}

// A header of autocannon's onResponse (raw names), whatever its case.
function header(headers, name) {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

// Checks the app's answers before measuring it: a cookie gives the user, none gives 401.
async function checkApp(port, cookies) {
  const base = `http://127.0.0.1:${port}`;
  const me = await fetch(`${base}/me`, { headers: { cookie: cookies[0] } });
  const anonymous = await fetch(`${base}/me`);
  if (me.status !== 200 || !(await me.json()).sub || anonymous.status !== 401) {
    throw new Error(`the app answered GET /me with ${me.status} (cookie) and ` +
                    `${anonymous.status} (none)`);
  }
}

// GET /me: each request the next user's cookie, one counter over all connections.
function getRequests(cookies, state) {
  return [{
    method: 'GET',
    path: '/me',
    setupRequest: (req) => ({ ...req, headers: { ...req.headers,
                                                 cookie: cookies[state.next++ % cookies.length] } }),
  }];
}

// POST /login: each request a new user (numbers after the ones logged in beforehand).
function loginRequests(state) {
  return [{
    method: 'POST',
    setupRequest: (req) => ({ ...req, path: `/login?user=${state.next++}` }),
  }];
}

// One store's round: a fresh app, warm-up, then GET /me and POST /login measured.
async function runRound(store, cookies, cfg, round) {
  const app = await startApp(store);
  try {
    const getState = { next: Math.floor(Math.random() * cookies.length) };
    const loginState = { next: 10_000_000 * (round + 1) };
    const url = `http://127.0.0.1:${app.port}`;
    const load = (requests, duration) => cannon({ url, connections: cfg.connections, duration,
                                                  requests });
    await load(getRequests(cookies, getState), cfg.warmup);
    await load(loginRequests(loginState), cfg.warmup);
    const get = await measure(app, store, () => load(getRequests(cookies, getState), cfg.seconds));
    const login = await measure(app, store, () => load(loginRequests(loginState), cfg.seconds));
    return { get, login };
  } finally {
    await stopApp(app);
  }
}

// Runs `run` (an autocannon run) and returns requests per second and the CPU per
// completed request of the app process and of its store's server.
async function measure(app, store, run) {
  const wal0 = await store.server.wal();
  const app0 = procTicks(app.pid);
  const server0 = store.server.ticks();
  const result = await run();
  const appTicks = procTicks(app.pid) - app0;
  const serverTicks = store.server.ticks() - server0;
  const wal1 = await store.server.wal();
  const done = result['2xx'];
  const perRequest = (ticks) => (done ? (1e6 * ticks) / CLK_TCK / done : null);
  return {
    rps: done / result.duration,
    requests: done,
    errors: result.non2xx + result.errors + result.timeouts,
    latencyP99Ms: result.latency.p99,
    appUs: perRequest(appTicks),
    serverUs: perRequest(serverTicks),
    cpuUs: perRequest(appTicks + serverTicks),
    walBytes: wal0 === null || !done ? null : (wal1 - wal0) / done,
  };
}

// The database's WAL insert position in bytes (WAL per request tells how many requests
// wrote), over one connection of the driver's own.
let walClient;
async function walPosition() {
  if (!walClient) {
    const pg = require('pg');
    walClient = new pg.Client();
    await walClient.connect();
  }
  const { rows } = await walClient.query(
    "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::float8 AS bytes");
  return rows[0].bytes;
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ timeout: 10, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

// ------------------------------------------------------------------ CPU from /proc

// The fields of /proc/PID/stat after the command name: [0] is field 3 of proc(5).
function statFields(pid) {
  return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop().trim().split(/\s+/);
}

// utime + stime of a process (all its threads), in clock ticks.
function procTicks(pid) {
  const f = statFields(pid);
  return Number(f[11]) + Number(f[12]);
}

// The CPU of a process tree one level deep (the postmaster and its children): its own,
// its reaped children's (cutime, cstime) and that of the children still running.
function treeTicks(root) {
  let ticks = statFields(root).slice(11, 15).reduce((a, b) => a + Number(b), 0);
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === root) continue;
    try {
      const f = statFields(name);
      if (Number(f[1]) === root) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended while we looked
    }
  }
  return ticks;
}

// ------------------------------------------------------------------ statements

// What each request sends its store: the statements PostgreSQL logs (log_statement = all,
// turned on for this step) or the commands Redis counts (INFO commandstats), over
// `count` requests of each kind.
async function countStatements(store, cookies, count) {
  const app = await startApp(store);
  try {
    const base = `http://127.0.0.1:${app.port}`;
    const requests = {
      'GET /me': (i) => fetch(`${base}/me`, { headers: { cookie: cookies[i] } }),
      'POST /login': (i) => fetch(`${base}/login?user=${90_000_000 + i}`, { method: 'POST' }),
    };
    const reader = store.key.startsWith('redis') ? redisCounter(store.env.BENCH_REDIS_URL)
      : pgLogCounter(process.env.BENCH_PG_LOG);
    await reader.open();
    const out = {};
    try {
      for (const [kind, send] of Object.entries(requests)) {
        await (await send(count)).arrayBuffer(); // warm: the pool connects, plans are prepared
        await reader.mark();
        for (let i = 0; i < count; i++) {
          const res = await send(i);
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`${store.label}: ${kind} answered ${res.status}`);
        }
        out[kind] = perRequest(await reader.read(), count);
      }
    } finally {
      await reader.close();
    }
    return out;
  } finally {
    await stopApp(app);
  }
}

// Statement texts and how many times each was sent, divided by `count` requests.
function perRequest(counts, count) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    perRequest: total / count,
    statements: Object.entries(counts).map(([text, n]) => ({ text, perRequest: n / count })),
  };
}

// Counts the statements logged by log_statement = all after mark(), from the server log.
function pgLogCounter(file) {
  const pg = require('pg');
  const client = new pg.Client();
  let offset = 0;
  const setLogging = (value) => client.query(`ALTER SYSTEM SET log_statement = '${value}'`)
    .then(() => client.query('SELECT pg_reload_conf()'))
    .then(() => new Promise((resolve) => setTimeout(resolve, 300)));
  return {
    open: async () => {
      await client.connect();
      await client.query("SET log_statement = 'none'");
      await setLogging('all');
    },
    mark: async () => {
      offset = fs.statSync(file).size;
    },
    read: async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const fd = fs.openSync(file, 'r');
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      fs.closeSync(fd);
      const counts = {};
      // "LOG:  statement: ..." (simple protocol) or "LOG:  execute <name>: ..." (extended)
      for (const m of buf.toString('utf8').matchAll(/LOG: {2}(?:statement|execute [^:]*): (.*)/g)) {
        counts[m[1]] = (counts[m[1]] || 0) + 1;
      }
      return counts;
    },
    close: async () => {
      await client.query('ALTER SYSTEM RESET log_statement');
      await client.query('SELECT pg_reload_conf()');
      await client.end();
    },
  };
}

// Counts the commands Redis ran after mark(), from INFO commandstats.
function redisCounter(url) {
  const { createClient } = require('redis');
  const client = createClient({ url });
  const stats = async () => {
    const counts = {};
    for (const m of (await client.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
      counts[m[1].toUpperCase()] = Number(m[2]);
    }
    return counts;
  };
  let before = {};
  return {
    open: () => client.connect(),
    mark: async () => {
      before = await stats();
    },
    read: async () => {
      const after = await stats();
      const counts = {};
      for (const [cmd, n] of Object.entries(after)) {
        // the INFO that read `before` is the one call of ours in between
        const d = n - (before[cmd] || 0) - (cmd === 'INFO' ? 1 : 0);
        if (d > 0) counts[cmd] = d;
      }
      return counts;
    },
    close: () => client.quit(),
  };
}

function printStatements(statements, active) {
  for (const store of active) {
    for (const [kind, s] of Object.entries(statements[store.key])) {
      log(`  ${store.label}, ${kind}: ${fmt(s.perRequest)} per request`);
      for (const st of s.statements) log(`      ${fmt(st.perRequest)} x ${st.text}`);
    }
  }
}

// ------------------------------------------------------------------ figures

// The comparisons: pgsession against each baseline, for both requests; targets from
// issue 9 (GET /me at least 2x connect-pg-simple and 1.0x durable Redis, POST /login at
// least 1.0x connect-pg-simple), the rest context.
const COMPARISONS = [
  { id: 'a', kind: 'get', request: 'GET /me', baseline: 'cps', target: 2.0 },
  { id: 'b', kind: 'get', request: 'GET /me', baseline: 'redis-aof', target: 1.0 },
  { id: 'c', kind: 'get', request: 'GET /me', baseline: 'redis', target: null },
  { id: 'd', kind: 'login', request: 'POST /login', baseline: 'cps', target: 1.0 },
  { id: 'e', kind: 'login', request: 'POST /login', baseline: 'redis-aof', target: null },
  { id: 'f', kind: 'login', request: 'POST /login', baseline: 'redis', target: null },
];
const BASELINE_NAMES = { cps: 'connect-pg-simple', redis: 'Redis (appendonly no)',
                         'redis-aof': 'Redis (appendfsync always)' };

// The figures in bench.py's shape (name, value, baseline, ratio, spread, target, better,
// unit, rounds, notes): req/s with its target, then server CPU per request as context.
function makeFigures(rounds, skipped, cfg) {
  const figures = [];
  for (const c of COMPARISONS) {
    const name = `${FIGURE_PREFIX}${c.id}. ${c.request}, pgsession / ${BASELINE_NAMES[c.baseline]}`;
    const missing = skipped.pgsession || skipped[c.baseline];
    const figure = (suffix, fields) => ({ name: name + suffix, value: null, baseline: null,
                                          ratio: null, spread: null, target: null,
                                          better: 'higher', unit: '', rounds: cfg.rounds,
                                          notes: '', ...fields });
    if (missing) {
      figures.push(figure('', { target: c.target, unit: 'req/s', notes: `skipped: ${missing}` }));
      continue;
    }
    const side = (key, field) => rounds.map((r) => r[key][c.kind][field]);
    const ratios = (field) => median(side('pgsession', field).map((v, i) => v / side(c.baseline, field)[i]));
    const [rps, rpsSpread] = ratios('rps');
    const us = (key, field) => fmt(median(side(key, field))[0]);
    const wal = c.baseline === 'cps' ? `; WAL per request ${us('pgsession', 'walBytes')} / ` +
      `${us('cps', 'walBytes')} bytes` : '';
    figures.push(figure('', {
      value: median(side('pgsession', 'rps'))[0], baseline: median(side(c.baseline, 'rps'))[0],
      ratio: rps, spread: rpsSpread, target: c.target, unit: 'req/s',
      notes: `${cfg.connections} connections, pool of 10${wal}`,
    }));
    const [cpu, cpuSpread] = ratios('cpuUs');
    figures.push(figure(' server CPU per request', {
      value: median(side('pgsession', 'cpuUs'))[0], baseline: median(side(c.baseline, 'cpuUs'))[0],
      ratio: cpu, spread: cpuSpread, better: 'lower', unit: 'us',
      notes: `context: app + ${c.baseline === 'cps' ? 'database' : 'database / Redis'}; ` +
             `pgsession ${us('pgsession', 'appUs')} + ${us('pgsession', 'serverUs')} us, ` +
             `baseline ${us(c.baseline, 'appUs')} + ${us(c.baseline, 'serverUs')} us`,
    }));
  }
  return figures;
}

// Each store's medians over rounds (for the README's absolute numbers).
function medians(rounds, active) {
  const out = {};
  for (const s of active) {
    out[s.key] = {};
    for (const kind of ['get', 'login']) {
      out[s.key][kind] = {};
      for (const field of ['rps', 'appUs', 'serverUs', 'cpuUs', 'walBytes', 'latencyP99Ms']) {
        out[s.key][kind][field] = median(rounds.map((r) => r[s.key][kind][field]))[0];
      }
    }
  }
  return out;
}

// Replaces this benchmark's figures in latest.json (by their name prefix), keeping the rest.
function mergeLatest(file, doc) {
  let latest = { mode: doc.mode, figures: [] };
  try {
    latest = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  latest.figures = latest.figures.filter((f) => !f.name.startsWith(FIGURE_PREFIX));
  const met = (f) => (f.target === null || f.ratio === null ? null
    : f.better === 'higher' ? f.ratio >= f.target : f.ratio <= f.target);
  latest.figures.push(...doc.figures.map((f) => ({ ...f, met: met(f) })));
  latest.node = { mode: doc.mode, config: doc.config, seconds: doc.seconds };
  fs.writeFileSync(file, JSON.stringify(latest, null, 2) + '\n');
}

// ------------------------------------------------------------------ helpers

// Median and [min, max] of the finite values (null, null when there are none).
function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return [null, null];
  const mid = v.length >> 1;
  return [v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, [v[0], v[v.length - 1]]];
}

function shuffle(a) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function fmt(x) {
  if (x === null || x === undefined) return '-';
  return x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(2);
}

function log(message) {
  console.log(message);
}

function parseArgs(argv) {
  const args = { mode: 'quick', results: path.join(__dirname, '..', 'results') };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args)) throw new Error(`unknown option ${argv[i]}`);
    args[key] = argv[i + 1];
  }
  if (!MODES[args.mode]) throw new Error(`--mode must be quick or full`);
  return args;
}

process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killChildren();
    process.exit(1);
  });
}

main().catch((err) => {
  console.error(err.stack || err);
  killChildren();
  process.exit(1);
});
