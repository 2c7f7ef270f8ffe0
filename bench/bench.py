#!/usr/bin/env python3
"""The pgsession benchmarks (issue 5): each figure a ratio against its baseline.

Run by bench/run.sh, which builds and installs the extension, starts a tuned cluster on
loopback and passes its port here.  Every comparison runs A and B alternately over several
rounds (A B, B A, A B, ...) and reports the median of the per-round ratios with their
spread (lowest and highest), because the machines are shared and absolute numbers drift.

Writes bench/results/latest.json (a list of figures: name, value, baseline, ratio,
spread, target, met, plus unit and notes), prints a table and draws
bench/results/cleanup_latency.png.  Python 3 standard library only; the load comes from
pgbench -M prepared, redis-benchmark and the C++ client benchmark (bench/client).
"""

import argparse
import base64
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
PGBENCH_DIR = os.path.join(BENCH_DIR, "pgbench")
SQL_DIR = os.path.join(BENCH_DIR, "sql")

# The two sizes.  live: live sessions; expired: the expired sessions figure 5 removes
# (among live + expired); active: the sessions that make requests in figure 2 and during
# the cleanup (1% of the live ones: a session's requests come in bursts, a few a second
# while its user is active); seconds: length of one measured run; rounds: A/B pairs;
# save_pool: the framework sessions figure 9 saves again; delete_per_client: the
# existing sessions each client deletes in one figure-9 run.
MODES = {
    "full": dict(live=1_000_000, expired=500_000, active=10_000, rounds=5, seconds=10,
                 warmup=2, clients=[2, 8], chunk=50_000, cleanup_rounds=3, rest=10,
                 reader_rate=1000, redis_requests=200_000, client_seconds=5,
                 save_pool=200_000, delete_per_client=10_000),
    "quick": dict(live=50_000, expired=25_000, active=2_000, rounds=3, seconds=3,
                  warmup=1, clients=[2, 8], chunk=25_000, cleanup_rounds=2, rest=5,
                  reader_rate=500, redis_requests=50_000, client_seconds=2,
                  save_pool=20_000, delete_per_client=2_000),
}

# The slowest any single step may take before the run is abandoned (seconds).
STEP_TIMEOUT = 900


def log(message):
    print(message, flush=True)


class Figure:
    """One line of the table and of latest.json."""

    def __init__(self, name, value=None, baseline=None, ratio=None, spread=None, target=None,
                 better="higher", unit="", notes="", rounds=None, cpu=None, cpu_ratio=None):
        self.name, self.value, self.baseline, self.ratio = name, value, baseline, ratio
        self.spread, self.target, self.better, self.unit = spread, target, better, unit
        self.notes, self.rounds = notes, rounds
        # Server CPU time per call in microseconds, [value's, baseline's], beside a
        # throughput ratio: it moves far less than the ratio on a shared machine.
        self.cpu = cpu
        self.cpu_ratio = cpu[0] / cpu[1] if cpu and cpu[1] else cpu_ratio

    @property
    def met(self):
        if self.target is None or self.ratio is None:
            return None
        return self.ratio >= self.target if self.better == "higher" else self.ratio <= self.target

    def as_json(self):
        return dict(name=self.name, value=self.value, baseline=self.baseline, ratio=self.ratio,
                    spread=self.spread, target=self.target, met=self.met, better=self.better,
                    unit=self.unit, rounds=self.rounds, notes=self.notes, cpu=self.cpu,
                    cpu_ratio=self.cpu_ratio)


def median_ratio(values, baselines):
    """Median and [min, max] of the per-round ratios value/baseline."""
    ratios = [v / b for v, b in zip(values, baselines) if b]
    if not ratios:
        return None, None
    return statistics.median(ratios), [min(ratios), max(ratios)]


def p99(latencies):
    if not latencies:
        return None
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


class CpuPerCall:
    """Server CPU time per call over a side's measured pgbench runs: the CPU time of every
    process of the cluster (Bench.server_cpu) over the runs, divided by the transactions."""

    def __init__(self, bench):
        self.bench, self.seconds, self.calls = bench, 0.0, 0

    def run(self, script, clients, seconds, defines=None, options=None, transactions=None):
        """One measured pgbench run; returns its transactions per second."""
        before = self.bench.server_cpu()
        tps, n = self.bench.pgbench(script, clients, seconds, defines, options,
                                    transactions=transactions)
        time.sleep(0.5)  # backends exit and are reaped
        self.seconds += self.bench.server_cpu() - before
        self.calls += n
        return tps

    def us(self):
        return round(1e6 * self.seconds / self.calls, 1) if self.calls else None


class Bench:
    def __init__(self, args):
        self.port = args.port
        self.mode = args.mode
        self.cfg = MODES[args.mode]
        self.results = args.results
        self.client_bench = args.client_bench
        self.client_reason = args.client_reason
        self.scratch = args.scratch
        self.figures = []
        self.tps = {}  # medians other figures quote (figure 7)
        self.started = time.time()
        self.worker_samples = []
        self.stop_sampling = threading.Event()
        self.env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(self.port),
                        PGUSER="postgres", PGDATABASE="bench")

    # ---------------------------------------------------------------- plumbing

    def psql(self, sql, db="bench", options=None):
        """Runs SQL through psql and returns its unaligned, tuples-only output."""
        env = dict(self.env, PGDATABASE=db)
        if options:
            env["PGOPTIONS"] = options
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                             env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {sql[:200]}\n{out.stderr}")
        return out.stdout.strip()

    def psql_file(self, path, variables):
        args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", path]
        for key, value in variables.items():
            args += ["-v", f"{key}={value}"]
        out = subprocess.run(args, env=self.env, capture_output=True, text=True,
                             timeout=STEP_TIMEOUT)
        if out.returncode != 0:
            raise RuntimeError(f"psql -f {path} failed:\n{out.stderr}")

    def counters(self):
        """WAL position and rows written so far (every table of the database)."""
        row = self.psql("SELECT pg_current_wal_lsn() - '0/0', "
                        "sum(n_tup_ins + n_tup_upd + n_tup_del), sum(n_tup_hot_upd) "
                        "FROM pg_stat_user_tables")
        wal, rows, _ = row.split("|")
        return int(float(wal)), int(rows or 0)

    def table_counters(self, table):
        row = self.psql("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                        f"WHERE relid = '{table}'::regclass")
        upd, hot = row.split("|")
        return int(upd), int(hot)

    def pgbench(self, script, clients, seconds, defines=None, options=None, rate=None,
                log_prefix=None, wait=True, transactions=None):
        """Runs one pgbench (-M prepared) and returns transactions per second and count:
        for `seconds`, or `transactions` per client when given."""
        length = ["-t", str(transactions)] if transactions else ["-T", str(seconds)]
        args = ["pgbench", "-n", "-M", "prepared", "-c", str(clients),
                "-j", str(min(clients, 2)), *length,
                "-f", os.path.join(PGBENCH_DIR, script)]
        for key, value in (defines or {}).items():
            args += ["-D", f"{key}={value}"]
        if rate:
            args += ["-R", str(rate)]
        if log_prefix:
            args += ["-l", f"--log-prefix={log_prefix}"]
        env = dict(self.env, PGOPTIONS=options or "")
        if not wait:
            # Stopped early with SIGINT, which a shell without job control makes its
            # background commands (and so this one) ignore: restore its default.
            return subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, cwd=self.results,
                                    preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                     signal.SIG_DFL))
        out = subprocess.run(args, env=env, capture_output=True, text=True, cwd=self.results,
                             timeout=seconds + STEP_TIMEOUT)
        if out.returncode != 0:
            raise RuntimeError(f"pgbench {script} failed:\n{out.stderr}\n{out.stdout}")
        tps = float(re.search(r"tps = ([0-9.]+) \(without initial", out.stdout).group(1))
        count = int(re.search(r"actually processed: (\d+)", out.stdout).group(1))
        return tps, count

    def alternate(self, rounds, run_a, run_b):
        """Runs A and B alternately (A B, B A, ...) and returns their lists of results."""
        a_results, b_results = [], []
        for r in range(rounds):
            order = [(run_a, a_results), (run_b, b_results)]
            if r % 2:
                order.reverse()
            for run, results in order:
                results.append(run())
            log(f"    round {r + 1}/{rounds}: A {a_results[-1]:,.0f}  B {b_results[-1]:,.0f}")
        return a_results, b_results

    def add(self, figure):
        self.figures.append(figure)
        return figure

    # The session events (figures 5 and 9f): an application server's listener, which reads
    # every notification (psql prints each one after a query, here every 0.2 s), runs
    # through both sides of an events-on / events-off comparison; each side connects with
    # pgsession.notify_channel set accordingly (empty, events off, is the default).
    EVENTS_ON = "-c pgsession.notify_channel=pgsession"
    EVENTS_OFF = "-c pgsession.notify_channel="

    def start_listener(self):
        listener = subprocess.Popen(["psql", "-X", "-q"], env=self.env, stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    text=True)
        listener.stdin.write("LISTEN pgsession;\nSELECT 1 \\watch 0.2\n")
        listener.stdin.flush()
        return listener

    @staticmethod
    def stop_listener(listener):
        listener.terminate()
        listener.wait(timeout=30)

    def compare(self, name, script_a, script_b, clients, target, defines, options_a="",
                options_b="", notes=""):
        """A figure from two pgbench scripts: transactions per second, A over B."""
        cfg = self.cfg
        log(f"  {name}")
        for script, options in ((script_a, options_a), (script_b, options_b)):
            self.pgbench(script, clients, cfg["warmup"], defines, options)
        cpu_a, cpu_b = CpuPerCall(self), CpuPerCall(self)
        a, b = self.alternate(
            cfg["rounds"],
            lambda: cpu_a.run(script_a, clients, cfg["seconds"], defines, options_a),
            lambda: cpu_b.run(script_b, clients, cfg["seconds"], defines, options_b))
        ratio, spread = median_ratio(a, b)
        return self.add(Figure(name, statistics.median(a), statistics.median(b), ratio, spread,
                               target, unit="tps", notes=notes, rounds=cfg["rounds"],
                               cpu=[cpu_a.us(), cpu_b.us()]))

    # ---------------------------------------------------------------- data

    def load(self, kind, count):
        """Loads `count` sessions of a kind into every design, with a progress bar."""
        chunk = self.cfg["chunk"]
        begin = time.time()
        done = 0
        tty = sys.stdout.isatty()
        last_shown = -1
        while done < count:
            lo, hi = done + 1, min(done + chunk, count)
            self.psql_file(os.path.join(SQL_DIR, "load.sql"), dict(kind=kind, lo=lo, hi=hi))
            done = hi
            share = done / count
            bar = "#" * int(share * 30)
            line = (f"  loading {count:,} {kind} sessions  [{bar:<30}] {share:4.0%}  "
                    f"{done:,}/{count:,}  {time.time() - begin:5.1f} s")
            if tty:
                print("\r" + line, end="" if done < count else "\n", flush=True)
            elif int(share * 10) != last_shown:
                last_shown = int(share * 10)
                log(line)

    def vacuum(self, *tables):
        for table in tables:
            self.psql(f"VACUUM (ANALYZE) {table}")

    def setup(self):
        log("== setting up")
        self.psql("CREATE DATABASE bench_worker")
        self.psql("CREATE EXTENSION pgsession; SELECT session_create(idle_timeout => '1s')",
                  db="bench_worker")
        with open(os.path.join(SQL_DIR, "schema.sql")) as f:
            self.psql(f.read())
        self.load("live", self.cfg["live"])
        self.vacuum("pgsession.sessions", "sessions", "session")
        self.psql("CHECKPOINT")
        sizes = self.psql("SELECT string_agg(format('%s %s', r, "
                          "pg_size_pretty(pg_total_relation_size(r))), ', ') FROM unnest("
                          "ARRAY['pgsession.sessions', 'sessions', 'session']::regclass[]) r")
        log(f"  sizes: {sizes}")

    def spread_accesses(self):
        """Gives the active sessions a last recorded access spread over the last minute,
        as in steady state, so that session_get records each one once a minute."""
        self.psql("UPDATE pgsession.sessions SET last_accessed_at = "
                  "greatest(created_at, now() - random() * interval '1 minute') "
                  "WHERE id_hash IN (SELECT sha256(convert_to('benchtoken' || "
                  f"lpad(i::text, 33, '0'), 'UTF8')) FROM generate_series(1, "
                  f"{self.cfg['active']}) i)")

    # ---------------------------------------------------------------- figures 1-4

    def session_get_vs_select(self):
        log("== figure 1: session_get (no write due) vs a prepared SELECT on the original table")
        for clients in self.cfg["clients"]:
            updated, _ = self.table_counters("pgsession.sessions")
            f = self.compare(f"1. session_get / SELECT by key, {clients} clients",
                             "pgsession_get.sql", "original_get.sql", clients, 0.95,
                             dict(range=self.cfg["live"]),
                             options_a="-c pgsession.touch_interval=24h",
                             notes="random among all live sessions; touch_interval 24h so no "
                                   "write is due")
            # Each run's backends have exited (CpuPerCall.run), so their statistics are in.
            updated = self.table_counters("pgsession.sessions")[0] - updated
            f.notes += f"; rows session_get updated: {updated:,}"
            self.tps[f"get{clients}"] = f.value

    def request_run(self, script, clients, options, counts):
        """One figure-2 run after a checkpoint; adds its WAL bytes and rows to counts."""
        self.psql("CHECKPOINT")
        wal0, rows0 = self.counters()
        tps, n = self.pgbench(script, clients, self.cfg["seconds"],
                              dict(range=self.cfg["active"], now=int(time.time())), options)
        time.sleep(0.5)  # backends flush their statistics as they exit
        wal1, rows1 = self.counters()
        counts["requests"] += n
        counts["wal"] += wal1 - wal0
        counts["rows"] += rows1 - rows0
        return tps

    def request_with_touch_vs_sql(self):
        log("== figure 2: a request with the session touched every time, synchronous_commit on")
        self.spread_accesses()
        sync = "-c synchronous_commit=on"
        for clients in self.cfg["clients"]:
            counts = {s: dict(requests=0, wal=0, rows=0) for s in ("pg", "orig", "cps")}
            runs = {s: [] for s in counts}
            scripts = dict(pg="pgsession_get.sql", orig="original_request.sql",
                           cps="cps_request.sql")
            for s in counts:  # warm-up
                self.pgbench(scripts[s], clients, self.cfg["warmup"],
                             dict(range=self.cfg["active"], now=int(time.time())), sync)
            for r in range(self.cfg["rounds"]):
                order = ["pg", "orig", "cps"] if r % 2 == 0 else ["cps", "orig", "pg"]
                for s in order:
                    runs[s].append(self.request_run(scripts[s], clients, sync, counts[s]))
                log(f"    round {r + 1}: session_get {runs['pg'][-1]:,.0f}  original "
                    f"{runs['orig'][-1]:,.0f}  connect-pg-simple {runs['cps'][-1]:,.0f} tps")
            for s, label in (("orig", "original"), ("cps", "connect-pg-simple")):
                ratio, spread = median_ratio(runs["pg"], runs[s])
                self.add(Figure(f"2. request: session_get / {label}, {clients} clients",
                                statistics.median(runs["pg"]), statistics.median(runs[s]),
                                ratio, spread, 5.0, unit="tps", rounds=self.cfg["rounds"],
                                notes=f"{self.cfg['active']:,} active sessions; "
                                      "touch_interval 1min"))
            per_k = {s: {k: 1000 * c[k] / max(c["requests"], 1) for k in ("rows", "wal")}
                     for s, c in counts.items()}
            for what, unit in (("rows", "rows"), ("wal", "bytes")):
                for s, label in (("orig", "original"), ("cps", "connect-pg-simple")):
                    a, b = per_k["pg"][what], per_k[s][what]
                    self.add(Figure(f"2. {'rows written' if what == 'rows' else 'WAL bytes'} "
                                    f"per 1,000 requests / {label}, {clients} clients",
                                    round(a, 1), round(b, 1), a / b if b else None, None, None,
                                    better="lower", unit=unit, notes="context"))

    def session_touch_vs_update(self):
        log("== figure 3: session_touch vs the same UPDATE in plain SQL")
        clients = max(self.cfg["clients"])
        defines = dict(range=self.cfg["live"])
        options = "-c synchronous_commit=off"
        hot = dict(upd=0, hot=0)

        def touch():
            u0, h0 = self.table_counters("pgsession.sessions")
            tps = self.pgbench("pgsession_touch.sql", clients, self.cfg["seconds"], defines,
                               options)[0]
            time.sleep(0.5)
            u1, h1 = self.table_counters("pgsession.sessions")
            hot["upd"] += u1 - u0
            hot["hot"] += h1 - h0
            return tps

        log(f"  3. session_touch / UPDATE, {clients} clients")
        for script in ("pgsession_touch.sql", "raw_touch.sql"):
            self.pgbench(script, clients, self.cfg["warmup"], defines, options)
        a, b = self.alternate(self.cfg["rounds"], touch, lambda: self.pgbench(
            "raw_touch.sql", clients, self.cfg["seconds"], defines, options)[0])
        ratio, spread = median_ratio(a, b)
        self.add(Figure(f"3. session_touch / UPDATE, {clients} clients", statistics.median(a),
                        statistics.median(b), ratio, spread, 0.9, unit="tps",
                        rounds=self.cfg["rounds"], notes="synchronous_commit off"))
        share = hot["hot"] / hot["upd"] if hot["upd"] else None
        self.add(Figure("3. HOT share of session_touch updates", share, None, share, None, 0.9,
                        unit="share", notes=f"{hot['hot']:,} of {hot['upd']:,} updates"))
        self.vacuum("pgsession.sessions")

    def session_create_vs_insert(self):
        log("== figure 4: session_create vs INSERT into the original table")
        clients = max(self.cfg["clients"])
        f = self.compare(f"4. session_create / INSERT, {clients} clients",
                         "pgsession_create.sql", "original_insert.sql", clients, 0.95, {},
                         "-c synchronous_commit=off", "-c synchronous_commit=off",
                         notes="synchronous_commit off")
        self.tps["create"] = f.value
        # Leave the tables as loaded for what follows.
        self.psql("DELETE FROM pgsession.sessions WHERE nonce IS NOT NULL")
        self.psql("DELETE FROM sessions WHERE nonce IS NOT NULL")
        self.vacuum("pgsession.sessions", "sessions")

    # ---------------------------------------------------------------- figure 5

    def reader_log(self, prefix):
        """(start, latency) in seconds of every logged pgbench transaction."""
        rows = []
        directory, stem = os.path.split(prefix)
        for name in os.listdir(directory):
            if not name.startswith(stem + "."):
                continue
            with open(os.path.join(directory, name)) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) < 6:
                        continue
                    latency = int(parts[2]) / 1e6
                    end = int(parts[4]) + int(parts[5]) / 1e6
                    rows.append((end - latency, latency))
            os.remove(os.path.join(directory, name))
        return rows

    # The limits of pgsession.cleanup_wal_rate_limit (MB/s) the trade-off between rows
    # per second and p99 is measured at, through session_cleanup_in_batches.
    PACING_LIMITS = [0, 64, 32, 16, 8]

    def worker_cleanup(self):
        """Has the cleanup worker, at its default settings, clean the bench database once
        (pgsession.databases lists it until its run ends); returns the run's start and end
        (epoch seconds) and what it removed, from the worker's log line: its time stamp
        (the end) and the duration it gives.  Reading the log asks nothing of the server
        while the reader is measured."""
        path = os.path.join(self.scratch, "postgres.log")
        line = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) UTC .*pgsession cleanup "
                          r"worker: removed (\d+) expired sessions from database \"bench\" in "
                          r"\d+ batch(?:es)? \(([\d.]+) ms")
        offset = os.path.getsize(path)
        self.psql("ALTER SYSTEM SET pgsession.databases = 'bench_worker, bench'")
        self.psql("SELECT pg_reload_conf()")
        try:
            deadline = time.time() + STEP_TIMEOUT
            while time.time() < deadline:
                with open(path, errors="replace") as f:
                    f.seek(offset)
                    for text in f:
                        m = line.match(text)
                        if m:
                            end = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
                            end = end.replace(tzinfo=datetime.timezone.utc).timestamp()
                            return end - float(m.group(3)) / 1000, end, int(m.group(2))
                time.sleep(0.2)
            raise RuntimeError("the cleanup worker did not finish its run of the bench database")
        finally:
            self.psql("ALTER SYSTEM RESET pgsession.databases")
            self.psql("SELECT pg_reload_conf()")

    def cleanup_run(self, side, plot, limit=0):
        """One cleanup with a reader at a fixed rate: rows/s, p99 at rest and during, WAL.
        Side "pgsession" is session_cleanup_in_batches() at pgsession.cleanup_wal_rate_limit
        `limit` (MB/s, 0: not paced) without session events, "events" the same with them
        on, "worker" the cleanup worker at its default settings, "delete" the baseline."""
        cfg = self.cfg
        prefix = os.path.join(self.results, f"reader-{side}")
        reader_script = "cps_get.sql" if side == "delete" else "pgsession_get.sql"
        options = f"-c pgsession.cleanup_wal_rate_limit={limit}MB"
        if side != "delete":
            count_sql = "SELECT count(*) FROM pgsession.sessions WHERE expires_at <= now()"
            cleanup_sql = "CALL session_cleanup_in_batches()"
        else:
            count_sql = "SELECT count(*) FROM session WHERE expire < now()::timestamp"
            cleanup_sql = f"DELETE FROM session WHERE expire < to_timestamp({time.time():.3f})"
        if side == "events":
            options += " " + self.EVENTS_ON
        expired = int(self.psql(count_sql))
        self.psql("CHECKPOINT")
        bound = cfg["rest"] + 300
        reader = self.pgbench(reader_script, 2, bound,
                              dict(range=cfg["active"], now=int(time.time())), rate=cfg[
                                  "reader_rate"], log_prefix=prefix, wait=False)
        try:
            time.sleep(1)
            # The cleanup's own CPU time: the cluster's over the cleanup and the second
            # after it (its backend exits and is reaped), less what the reader costs per
            # second at rest (measured just before).  Not for the worker, which pauses.
            cpu_rest, t_rest = self.server_cpu(), time.time()
            time.sleep(cfg["rest"])
            wal0, _ = self.counters()
            cpu0 = self.server_cpu()
            t0 = time.time()
            reader_cpu = (cpu0 - cpu_rest) / (t0 - t_rest)
            if side == "worker":
                t0, t1, _ = self.worker_cleanup()
            else:
                self.psql(cleanup_sql, options=options)
                t1 = time.time()
            wal1, _ = self.counters()
            time.sleep(1.0)
            cleanup_cpu = (self.server_cpu() - cpu0
                           - reader_cpu * (time.time() - t0)) if side != "worker" else None
        finally:
            reader.send_signal(signal.SIGINT)
            reader.communicate(timeout=60)
        left = int(self.psql(count_sql))
        rows = self.reader_log(prefix)
        rest = [lat for start, lat in rows if t0 - cfg["rest"] <= start < t0]
        during = [lat for start, lat in rows if t0 <= start < t1]
        if plot is not None:
            plot[side] = ([(start - t0, lat) for start, lat in rows], t1 - t0)
        removed = expired - left
        return dict(rate=removed / (t1 - t0), removed=removed, seconds=t1 - t0, limit=limit,
                    p99_rest=p99(rest), p99_during=p99(during), wal=wal1 - wal0,
                    samples=len(during),
                    cpu=1e6 * cleanup_cpu / max(removed, 1) if cleanup_cpu is not None
                    else None)

    def cleanup_vs_delete(self):
        cfg = self.cfg
        total = cfg["live"] + cfg["expired"]
        log(f"== figure 5: cleanup of {cfg['expired']:,} expired sessions among {total:,}, "
            f"session_get at {cfg['reader_rate']}/s meanwhile")
        results = {"pgsession": [], "delete": [], "events": [], "worker": []}
        plot = {}
        listener = self.start_listener()

        def restore():
            # The same expired sessions again for every pgsession side after the first.
            if self.psql("SELECT count(*) FROM pgsession.sessions "
                         "WHERE expires_at <= now()") == "0":
                self.psql("INSERT INTO pgsession.sessions SELECT * FROM bench_expired")
                self.vacuum("pgsession.sessions")

        try:
            for r in range(cfg["cleanup_rounds"]):
                self.load("expired", cfg["expired"])
                self.vacuum("pgsession.sessions", "session")
                self.spread_accesses()
                self.psql("DROP TABLE IF EXISTS bench_expired; CREATE TABLE bench_expired AS "
                          "SELECT * FROM pgsession.sessions WHERE expires_at <= now()")
                order = (["pgsession", "worker", "events", "delete"] if r % 2 == 0
                         else ["delete", "events", "worker", "pgsession"])
                last = r == cfg["cleanup_rounds"] - 1
                for side in order:
                    if side != "delete":
                        restore()
                    results[side].append(self.cleanup_run(
                        side, plot if last and side in ("worker", "delete") else None))
                a, b, c, w = (results[k][-1] for k in ("pgsession", "delete", "events", "worker"))
                log(f"    round {r + 1}: batches {a['rate']:,.0f} rows/s, p99 "
                    f"{ms(a['p99_rest'])} -> {ms(a['p99_during'])} ms | worker "
                    f"{w['rate']:,.0f} rows/s, p99 {ms(w['p99_rest'])} -> "
                    f"{ms(w['p99_during'])} ms | with events {c['rate']:,.0f} rows/s | "
                    f"DELETE {b['rate']:,.0f} rows/s, p99 {ms(b['p99_rest'])} -> "
                    f"{ms(b['p99_during'])} ms")
            # The trade-off: session_cleanup_in_batches at each limit (0 is side pgsession).
            pacing = {0: results["pgsession"]}
            for limit in self.PACING_LIMITS[1:]:
                restore()
                pacing[limit] = [self.cleanup_run("pgsession", None, limit)]
                x = pacing[limit][0]
                log(f"    pacing {limit} MB/s: {x['rate']:,.0f} rows/s in {x['seconds']:.1f} s, "
                    f"p99 {ms(x['p99_rest'])} -> {ms(x['p99_during'])} ms")
        finally:
            self.stop_listener(listener)
            self.psql("DROP TABLE IF EXISTS bench_expired")
        a, b, c, w = (results[k] for k in ("pgsession", "delete", "events", "worker"))
        default_limit = self.psql("SHOW pgsession.cleanup_wal_rate_limit")
        ratio, spread = median_ratio([x["rate"] for x in c], [x["rate"] for x in a])
        # CPU per row removed, beside each rows/s ratio: the cleanup's CPU time over the
        # rows it removed, the reader's at-rest rate taken out (cleanup_run).
        per_row = lambda runs: round(med(runs, "cpu"), 2) if med(runs, "cpu") else None
        self.add(Figure("5. cleanup rows/s: session events on / off", med(c, "rate"),
                        med(a, "rate"), ratio, spread, 0.95, unit="rows/s", rounds=len(c),
                        notes="one notification per batch of 1000; a listener reading them; "
                              "CPU per row removed",
                        cpu=[per_row(c), per_row(a)]))
        ratio, spread = median_ratio([x["rate"] for x in a], [x["rate"] for x in b])
        self.add(Figure("5. cleanup rows/s: batches, not paced / one DELETE",
                        med(a, "rate"), med(b, "rate"), ratio, spread, 0.8, unit="rows/s",
                        rounds=len(a), notes=f"{a[-1]['removed']:,} rows, batches of 1000, "
                        "pgsession.cleanup_wal_rate_limit = 0; CPU per row removed",
                        cpu=[per_row(a), per_row(b)]))
        p99_ratio = lambda runs: median_ratio([x["p99_during"] or 0 for x in runs],
                                              [x["p99_rest"] or 0 for x in runs])
        for side, label, target, notes in (
                (w, "session_get p99 during the worker's cleanup / at rest", 1.5,
                 f"the worker at its default settings (pacing {default_limit}/s)"),
                (a, "session_get p99 during batches, not paced / at rest", None, "context"),
                (b, "baseline SELECT p99 during DELETE / at rest", None, "context")):
            ratio, spread = p99_ratio(side)
            self.add(Figure(f"5. {label}", med(side, "p99_during", 1000),
                            med(side, "p99_rest", 1000), ratio, spread, target, better="lower",
                            unit="ms", rounds=len(side), notes=notes))
        ratio, spread = median_ratio([x["rate"] for x in w], [x["rate"] for x in b])
        self.add(Figure("5. worker rows/s at its default settings / one DELETE",
                        med(w, "rate"), med(b, "rate"), ratio, spread, None, unit="rows/s",
                        rounds=len(w), notes=f"context: paced to {default_limit}/s of WAL"))
        self.add(Figure("5. cleanup WAL bytes: batches / DELETE", med(a, "wal"),
                        med(b, "wal"), med(a, "wal") / med(b, "wal"), None, None,
                        better="lower", unit="bytes", notes="context"))
        delete_rate = med(b, "rate")
        with open(os.path.join(self.results, "cleanup_pacing.dat"), "w") as f:
            f.write("# pgsession.cleanup_wal_rate_limit (MB/s, 0: not paced), rows/s / one "
                    "DELETE, session_get p99 during / at rest, seconds\n")
            for limit, runs in pacing.items():
                rows_ratio = med(runs, "rate") / delete_rate
                p99r, _ = p99_ratio(runs)
                f.write(f"{limit} {rows_ratio:.3f} {p99r:.3f} {med(runs, 'seconds'):.2f}\n")
                self.add(Figure(f"5. pacing {limit or 'off'}{' MB/s' if limit else ''}: "
                                "p99 during / at rest", med(runs, "p99_during", 1000),
                                med(runs, "p99_rest", 1000), p99r, None, None, better="lower",
                                unit="ms", rounds=len(runs),
                                notes=f"context: rows/s {rows_ratio:.2f}x one DELETE, "
                                      f"{med(runs, 'seconds'):.1f} s"))
        self.plot(plot)

    def plot(self, plot):
        """Writes the per-request latencies of the last round and draws them."""
        if len(plot) < 2:
            return
        bucket = 0.25  # seconds
        for side, (rows, _) in plot.items():
            buckets = {}
            for start, lat in rows:
                buckets.setdefault(int((start + 1000) // bucket) - int(1000 // bucket),
                                   []).append(lat)
            with open(os.path.join(self.results, f"cleanup_latency_{side}.dat"), "w") as f:
                f.write("# seconds since the cleanup started, p99 and median latency (ms)\n")
                for key in sorted(buckets):
                    lats = buckets[key]
                    f.write(f"{key * bucket:.2f} {p99(lats) * 1000:.3f} "
                            f"{statistics.median(lats) * 1000:.3f}\n")
        if not shutil.which("gnuplot"):
            log("  gnuplot not found: no plot (apt-get install gnuplot-nox)")
            return
        out = subprocess.run(
            ["gnuplot", "-e", f"results='{self.results}'; "
                              f"end_worker={plot['worker'][1]:.3f}; "
                              f"end_delete={plot['delete'][1]:.3f}",
             os.path.join(BENCH_DIR, "cleanup_latency.gp")],
            capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            log(f"  gnuplot failed: {out.stderr.strip()}")
        else:
            log(f"  plot: {os.path.join(self.results, 'cleanup_latency.png')}")

    # ---------------------------------------------------------------- figure 6

    def client_vs_libpq(self):
        log("== figure 6: the C++ client")
        if not self.client_bench:
            for name in ("6. client get / raw libpq", "6. client get_many(100) / 100 get"):
                self.add(Figure(name, notes=f"not measured: {self.client_reason}"))
            return
        seconds = self.cfg["client_seconds"]
        conninfo = f"host=127.0.0.1 port={self.port} user=postgres dbname=bench"

        def run(mode, standby=""):
            out = subprocess.run([self.client_bench, conninfo, mode, str(seconds),
                                  str(self.cfg["active"])], capture_output=True, text=True,
                                 env=dict(self.env, PGOPTIONS="-c pgsession.touch_interval=24h",
                                          PGSESSION_BENCH_STANDBY=standby),
                                 timeout=seconds + STEP_TIMEOUT)
            if out.returncode != 0:
                raise RuntimeError(f"client benchmark {mode} failed:\n{out.stderr}")
            return float(out.stdout.split()[0])

        for a_mode, b_mode, name, target, unit in (
                ("get", "libpq", "6. client get / raw libpq", 0.95, "calls/s"),
                ("get_many", "get_seq", "6. client get_many(100) / 100 get", 3.0,
                 "sessions/s")):
            log(f"  {name}")
            run(a_mode), run(b_mode)
            a, b = self.alternate(self.cfg["rounds"], lambda: run(a_mode), lambda: run(b_mode))
            ratio, spread = median_ratio(a, b)
            self.add(Figure(name, statistics.median(a), statistics.median(b), ratio, spread,
                            target, unit=unit, rounds=self.cfg["rounds"],
                            notes="one connection; no write due"))
        self.client_standby(run, conninfo, seconds)

    def client_standby(self, run, conninfo, seconds):
        """Figure 6 with a hot standby, made for it alone (bench/client/standby.sh) so that
        no other figure pays for replication: client get reading from the standby against
        get on the primary, and the revocation window beside a write load."""
        names = ("6. client get via standby / get on primary",
                 "6. standby revocation window, p99 (ms)")
        if not self.scratch:
            for name in names:
                self.add(Figure(name, notes="not measured: no --scratch (bench/run.sh gives it)"))
            return
        script = os.path.join(BENCH_DIR, "client", "standby.sh")
        started = subprocess.run(["bash", script, "start", self.scratch, str(self.port)],
                                 capture_output=True, text=True, timeout=STEP_TIMEOUT)
        if started.returncode != 0:
            raise RuntimeError(f"the standby did not start:\n{started.stderr}")
        standby = (f"host=127.0.0.1 port={started.stdout.split()[-1]} user=postgres "
                   "dbname=bench")
        try:
            log(f"  {names[0]}")
            run("get_standby", standby), run("get")
            a, b = self.alternate(self.cfg["rounds"], lambda: run("get_standby", standby),
                                  lambda: run("get"))
            ratio, spread = median_ratio(a, b)
            self.add(Figure(names[0], statistics.median(a), statistics.median(b), ratio, spread,
                            None, unit="calls/s", rounds=self.cfg["rounds"],
                            notes="one connection each; the standby on the same machine; "
                                  "no write due"))

            log(f"  {names[1]}")
            load = self.pgbench("pgsession_create.sql", 4, seconds + 2, wait=False)
            out = subprocess.run([self.client_bench, conninfo, "lag", str(seconds), standby],
                                 capture_output=True, text=True, timeout=seconds + STEP_TIMEOUT)
            load.communicate(timeout=STEP_TIMEOUT)
            if out.returncode != 0:
                raise RuntimeError(f"client benchmark lag failed:\n{out.stderr}")
            count, median, p99_ms, worst = out.stdout.split()
            self.add(Figure(names[1], float(p99_ms), unit="ms", better="lower",
                            notes=f"{count} removals timed until the standby stopped returning "
                                  f"the session: median {float(median):.2f} ms, max "
                                  f"{float(worst):.1f} ms; beside pgbench pgsession_create.sql, "
                                  "4 clients (client_options::max_standby_lag is 1000 ms)"))
        finally:
            subprocess.run(["bash", script, "stop", self.scratch], timeout=STEP_TIMEOUT)

    # ---------------------------------------------------------------- figure 7

    def redis_context(self):
        log("== figure 7: Redis GET/SET on loopback, for context")
        if not shutil.which("redis-server") or not shutil.which("redis-benchmark"):
            self.add(Figure("7. Redis", notes="not measured: redis-server is not installed "
                                              "(apt-get install redis-server)"))
            return
        port = free_port()
        server = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                                   "--save", "", "--appendonly", "no", "--daemonize", "no",
                                   "--dir", self.results], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "ping"],
                                  capture_output=True, text=True).stdout.strip() == "PONG":
                    break
                time.sleep(0.1)
            clients = max(self.cfg["clients"])
            out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t",
                                  "set,get", "-n", str(self.cfg["redis_requests"]), "-c",
                                  str(clients), "-d", "400", "-r", str(self.cfg["live"]),
                                  "--csv"], capture_output=True, text=True, timeout=600)
        finally:
            server.terminate()
            server.wait(timeout=30)
        rps = {}
        for line in out.stdout.splitlines():
            cells = [c.strip('"') for c in line.split(",")]
            if len(cells) > 1 and cells[0] in ("SET", "GET"):
                rps[cells[0]] = float(cells[1])
        for op, ours, label in (("GET", self.tps.get(f"get{clients}"), "session_get"),
                                ("SET", self.tps.get("create"), "session_create")):
            if op in rps and ours:
                self.add(Figure(f"7. {label} / Redis {op}, {clients} clients", ours,
                                rps[op], ours / rps[op], None, None, unit="ops/s",
                                notes="redis-benchmark, 400-byte values, no persistence"))

    # ---------------------------------------------------------------- figure 9

    # An express-session session as its store's set() receives it, serialized as
    # JSON.stringify does: the cookie (about 150 bytes) and Passport's user object.
    FRAMEWORK_SESSION = (
        '{"cookie":{"originalMaxAge":86400000,"expires":"2025-06-02T10:15:30.123Z",'
        '"secure":true,"httpOnly":true,"domain":"app.example.com","path":"/",'
        '"sameSite":"lax"},"passport":{"user":{"id":"4f1c2a9e-7b3d-4e8a-9c61-2d5f0b7a3e19",'
        '"name":"Alice Martin","email":"alice.martin@example.com","roles":["user"]}}}')
    # Ids: PREFIX (13 base64url characters, random per benchmark run) || n, n a 19-digit
    # number 10^18 + slot * step + tag, 32 characters as uid-safe's 24 random bytes.  The
    # tag (n's last three digits) says what the id is for, so the sets never meet:
    #   0           the save pool, save_pool slots spread over the whole range (b)
    #   1 + run     the existing sessions one delete run removes, one pool per run (e)
    #   100 + c     new ids of client c, random slots (a, c): clients never collide
    #   500         unknown ids, random slots (d)
    # Every set spreads over the same range, so new ids land between existing ones and
    # unknown ones are looked for among them, as uid-safe's random ids would be.
    SLOTS = 8_000_000_000_000_000

    def postmaster_pid(self):
        if not hasattr(self, "_postmaster"):
            data = self.psql("SHOW data_directory")
            with open(os.path.join(data, "postmaster.pid")) as f:
                self._postmaster = int(f.readline())
        return self._postmaster

    def server_cpu(self):
        """CPU seconds the cluster's processes have used: the postmaster's own and its
        reaped children's, and that of the children still running."""
        pm = self.postmaster_pid()
        fields = proc_stat(pm)
        ticks = sum(int(x) for x in fields[11:15])
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == pm:
                continue
            try:
                fields = proc_stat(int(name))
            except (OSError, IndexError):
                continue
            if int(fields[1]) == pm:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def framework_load(self, slots, step, tag):
        self.psql_file(os.path.join(SQL_DIR, "framework_load.sql"),
                       dict(prefix=self.fw_prefix, slots=slots, step=step, tag=tag,
                            sess=self.FRAMEWORK_SESSION, idle="86400 seconds",
                            now=int(time.time())))

    def framework_compare(self, key, label, scripts, defines, target, notes,
                          transactions=None):
        """One figure-9 comparison: tps of pgsession (A) over connect-pg-simple (B), and
        the server CPU per call of each.  `defines` gives a run's pgbench variables
        from its side and number (0 is the warm-up)."""
        cfg = self.cfg
        clients = max(cfg["clients"])
        options = "-c synchronous_commit=off"
        cpu = {"pg": CpuPerCall(self), "cps": CpuPerCall(self)}
        runs = {"pg": 0, "cps": 0}

        def run(side, measured=True):
            d = dict(prefix=self.fw_prefix, sess=self.FRAMEWORK_SESSION, idle="86400 seconds",
                     now=int(time.time()), k=0, **defines(side, runs[side]))
            runs[side] += 1
            if not measured:
                return self.pgbench(scripts[side], clients, cfg["warmup"], d, options,
                                    transactions=transactions)[0]
            return cpu[side].run(scripts[side], clients, cfg["seconds"], d, options,
                                 transactions=transactions)

        name = f"9{key}. {label}, {clients} clients"
        log(f"  {name}")
        begin = time.time()
        run("pg", False), run("cps", False)
        a, b = self.alternate(cfg["rounds"], lambda: run("pg"), lambda: run("cps"))
        ratio, spread = median_ratio(a, b)
        self.add(Figure(name, statistics.median(a), statistics.median(b), ratio, spread,
                        target, unit="tps", rounds=cfg["rounds"], notes=notes,
                        cpu=[cpu["pg"].us(), cpu["cps"].us()]))
        log(f"    ({time.time() - begin:.0f} s)")

    def express_store_vs_connect_pg_simple(self):
        log("== figure 9: an express-session store: session_save, session_create and "
            "session_delete vs connect-pg-simple")
        cfg = self.cfg
        clients = max(cfg["clients"])
        self.fw_prefix = base64.urlsafe_b64encode(os.urandom(12)).decode()[:13]
        pool = cfg["save_pool"]
        pool_step = self.SLOTS // pool * 1000
        per_client = cfg["delete_per_client"]
        total = clients * per_client
        delete_step = self.SLOTS // total * 1000
        log(f"  loading {pool:,} framework sessions and {cfg['rounds'] + 1} x {total:,} "
            "to delete")
        self.framework_load(pool, pool_step, 0)
        for r in range(cfg["rounds"] + 1):
            self.framework_load(total, delete_step, 1 + r)
        self.vacuum("pgsession.sessions", "session")
        self.psql("CHECKPOINT")

        new = lambda side, r: dict(slots=self.SLOTS, step=1000, tag=100, by_client=1)
        live = lambda side, r: dict(slots=pool, step=pool_step, tag=0, by_client=0)
        unknown = lambda side, r: dict(total=self.SLOTS, per_client=10**12, step=1000,
                                       tag=500, seed=r)
        existing = lambda side, r: dict(total=total, per_client=per_client,
                                        step=delete_step, tag=1 + r, seed=r)
        save = dict(pg="pgsession_save.sql", cps="cps_set.sql")
        delete = dict(pg="pgsession_delete.sql", cps="cps_destroy.sql")
        self.framework_compare("a", "login, first save: session_save / set() of a new id", save,
                               new, 1.0, "synchronous_commit off; ~300-byte session")
        self.vacuum("pgsession.sessions", "session")
        self.framework_compare("b", "later save: session_save / set() of a live id", save,
                               live, 1.0, f"among {pool:,} sessions; synchronous_commit off")
        self.vacuum("pgsession.sessions", "session")
        self.framework_compare("c", "session_create(id) / INSERT of a new id",
                               dict(pg="pgsession_create_id.sql", cps="cps_insert.sql"), new,
                               1.0, "synchronous_commit off")
        self.framework_compare("d", "session_delete / destroy() of an unknown id", delete,
                               unknown, 1.0, "synchronous_commit off")
        self.framework_compare("e", "session_delete / destroy() of a live id", delete,
                               existing, 1.0, f"{per_client:,} per client and run; "
                               "synchronous_commit off", transactions=per_client)
        self.delete_events_cost(total, per_client, delete_step)
        # Leave the tables as loaded for what follows.
        self.psql("DELETE FROM pgsession.sessions WHERE data ? 'passport'")
        self.psql(f"DELETE FROM session WHERE left(sid, 13) = '{self.fw_prefix}'")
        self.vacuum("pgsession.sessions", "session")

    def delete_events_cost(self, total, per_client, delete_step):
        """Figure 9f: session_delete of a live id with the session events on (A) and off
        (B), a listener reading them throughout; each run deletes sessions of its own."""
        cfg = self.cfg
        clients = max(cfg["clients"])
        name = f"9f. session_delete of a live id: session events on / off, {clients} clients"
        log(f"  {name}")
        # Tags 200 + n (events on) and 300 + n (off), n = 0 the warm-up: ids no other run
        # of figure 9 takes.
        for side_tag in (200, 300):
            for r in range(cfg["rounds"] + 1):
                self.framework_load(total, delete_step, side_tag + r)
        self.vacuum("pgsession.sessions", "session")
        self.psql("CHECKPOINT")
        runs = {200: 0, 300: 0}

        def run(side_tag, measured=True):
            d = dict(prefix=self.fw_prefix, total=total, per_client=per_client,
                     step=delete_step, tag=side_tag + runs[side_tag], seed=runs[side_tag], k=0)
            runs[side_tag] += 1
            options = "-c synchronous_commit=off " + (self.EVENTS_ON if side_tag == 200
                                                       else self.EVENTS_OFF)
            return self.pgbench("pgsession_delete.sql", clients, cfg["warmup"], d, options,
                                transactions=per_client)[0]

        listener = self.start_listener()
        try:
            begin = time.time()
            run(200, False), run(300, False)
            a, b = self.alternate(cfg["rounds"], lambda: run(200), lambda: run(300))
        finally:
            self.stop_listener(listener)
        ratio, spread = median_ratio(a, b)
        self.add(Figure(name, statistics.median(a), statistics.median(b), ratio, spread, 0.95,
                        unit="tps", rounds=cfg["rounds"],
                        notes=f"{per_client:,} per client and run; synchronous_commit off; "
                              "a listener reading the notifications"))
        log(f"    ({time.time() - begin:.0f} s)")

    # ---------------------------------------------------------------- figure 8

    def launcher_pid(self):
        pid = self.psql("SELECT pid FROM pg_stat_activity "
                        "WHERE backend_type = 'pgsession cleanup launcher'")
        return int(pid) if pid else None

    def sample_worker(self, pid, interval):
        """Samples the launcher's memory every second (a background thread)."""
        start = None
        while not self.stop_sampling.is_set():
            try:
                with open(f"/proc/{pid}/status") as f:
                    status = dict(line.split(":", 1) for line in f if ":" in line)
                with open(f"/proc/{pid}/stat") as f:
                    ticks = int(f.read().rsplit(")", 1)[1].split()[19])
                if start is None:
                    start = ticks / os.sysconf("SC_CLK_TCK")
                uptime = float(open("/proc/uptime").read().split()[0])
                runs = 1 + int((uptime - start) / interval)
                self.worker_samples.append(dict(
                    runs=runs, rss=int(status["VmRSS"].split()[0]),
                    anon=int(status["RssAnon"].split()[0])))
            except (OSError, KeyError, ValueError, IndexError):
                break
            self.stop_sampling.wait(1.0)

    def start_worker_sampling(self):
        pid = None
        for _ in range(50):
            pid = self.launcher_pid()
            if pid:
                break
            time.sleep(0.2)
        if not pid:
            return
        interval = float(self.psql("SELECT setting FROM pg_settings "
                                   "WHERE name = 'pgsession.cleanup_interval'"))
        threading.Thread(target=self.sample_worker, args=(pid, interval), daemon=True).start()

    def worker_memory(self):
        log("== figure 8: the cleanup worker's memory over its runs")
        # The full run waits (at most 15 minutes) for the launcher's 1,000th run.
        deadline = time.time() + 900
        while (self.mode == "full" and self.worker_samples and time.time() < deadline
               and self.worker_samples[-1]["runs"] < 1000):
            time.sleep(2)
        self.stop_sampling.set()
        samples = self.worker_samples
        early = [s for s in samples if s["runs"] >= 10]
        if not early:
            self.add(Figure("8. worker memory after 1,000 runs / after 10",
                            notes="not measured: no pgsession cleanup launcher was running"))
            return
        first, last = early[0], samples[-1]
        target_runs = 1000
        if last["runs"] < target_runs:
            note = f"only {last['runs']} runs in this (quick) run; the full run reaches 1,000"
        else:
            note = ""
        for key, label in (("anon", "private (RssAnon)"), ("rss", "resident (VmRSS)")):
            self.add(Figure(f"8. launcher {label} after {last['runs']} runs / after "
                            f"{first['runs']}", last[key], first[key], last[key] / first[key],
                            None, 1.1 if key == "anon" else None, better="lower", unit="kB",
                            notes=note if key == "anon" else
                            "context: includes shared buffers the process touched"))

    # ---------------------------------------------------------------- figures 10, 11

    # Each starts a cluster of its own (bench/churn.py: autovacuum at PostgreSQL's
    # defaults; bench/growth.py: shared buffers for 10M sessions) beside this one.
    def churn(self):
        log("== figure 10: churn, the population turning over 20 times (bench/churn.py)")
        from churn import churn
        self.figures += churn(self.mode, self.results, log)

    def growth(self):
        log("== figure 11: growth, 100k to 10M live sessions (bench/growth.py)")
        from growth import growth
        self.figures += growth(self.mode, self.results, log)

    # ---------------------------------------------------------------- report

    def report(self):
        doc = dict(mode=self.mode, config=self.cfg, machine=machine(),
                   seconds=round(time.time() - self.started),
                   figures=[f.as_json() for f in self.figures])
        with open(os.path.join(self.results, "latest.json"), "w") as f:
            json.dump(doc, f, indent=2)
        with open(os.path.join(self.results, "latest.md"), "w") as f:
            f.write(markdown_table(doc["figures"]))
        rows = table_rows(doc["figures"])
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        log("")
        for i, row in enumerate(rows):
            log("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
            if i == 0:
                log("  ".join("-" * w for w in widths))
        met = [f.met for f in self.figures]
        log(f"\n{len(met)} figures, {met.count(True)} targets met, {met.count(False)} missed; "
            f"{os.path.join(self.results, 'latest.json')} ({time.time() - self.started:.0f} s)")


def table_rows(figures):
    """The table as rows of text cells (header first), from latest.json's figures."""
    rows = [("Figure", "Value", "Baseline", "Ratio (spread)", "Target", "Met",
             "Server CPU per call")]
    for f in map(lambda d: Figure(**{k: v for k, v in d.items() if k != "met"}), figures):
        rows.append((f.name, number(f.value, f.unit), number(f.baseline, f.unit),
                     ratio_text(f), target_text(f),
                     {True: "yes", False: "NO", None: ""}[f.met] if f.ratio is not None
                     else f.notes, cpu_text(f)))
    return rows


def markdown_table(figures):
    rows = table_rows(figures)
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(rows[0])]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |"
              for row in rows[1:]]
    return "\n".join(lines) + "\n"


def med(runs, key, scale=1):
    values = [r[key] for r in runs if r[key] is not None]
    return statistics.median(values) * scale if values else None


def ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.2f}"


def number(value, unit):
    if value is None:
        return ""
    if unit in ("ms", "share") or abs(value) < 100:
        return f"{value:.2f} {unit}".strip()
    return f"{value:,.0f} {unit}".strip()


def ratio_text(f):
    if f.ratio is None:
        return ""
    if f.spread:
        return f"{f.ratio:.2f} ({f.spread[0]:.2f}-{f.spread[1]:.2f})"
    return f"{f.ratio:.2f}" if f.ratio >= 0.1 else f"{f.ratio:.2g}"


def cpu_text(f):
    if not f.cpu or None in f.cpu:
        return ""
    return f"{f.cpu[0]:.1f} / {f.cpu[1]:.1f} us = {f.cpu_ratio:.2f}"


def target_text(f):
    if f.target is None:
        return ""
    return (">= " if f.better == "higher" else "<= ") + f"{f.target:g}"


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")),
                         "")
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return dict(cpu=model, cores=os.cpu_count(), memory_gib=round(mem, 1),
                kernel=os.uname().release,
                postgres=subprocess.run(["pg_config", "--version"], capture_output=True,
                                        text=True).stdout.strip())


def proc_stat(pid):
    """The fields of /proc/PID/stat after the command name: [0] is field 3 (state)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int)
    parser.add_argument("--markdown", metavar="JSON",
                        help="print the table of a results file in Markdown, and exit")
    parser.add_argument("--mode", choices=MODES, default="quick")
    parser.add_argument("--results", default=os.path.join(BENCH_DIR, "results"))
    parser.add_argument("--client-bench", default="")
    parser.add_argument("--client-reason", default="the C++ client benchmark was not built")
    parser.add_argument("--only", default="", help="comma-separated figure numbers")
    parser.add_argument("--scratch", default="",
                        help="the cluster's scratch directory (figure 6 makes a standby in it)")
    args = parser.parse_args()
    if args.markdown:
        with open(args.markdown) as f:
            print(markdown_table(json.load(f)["figures"]), end="")
        return
    if args.port is None:
        parser.error("--port is required")
    os.makedirs(args.results, exist_ok=True)
    bench = Bench(args)
    only = set(args.only.split(",")) if args.only else set("1 2 3 4 5 6 7 9 10 11".split())
    bench.start_worker_sampling()
    bench.setup()
    steps = [("1", bench.session_get_vs_select), ("2", bench.request_with_touch_vs_sql), ("3", bench.session_touch_vs_update),
             ("4", bench.session_create_vs_insert), ("7", bench.redis_context), ("6", bench.client_vs_libpq),
             ("5", bench.cleanup_vs_delete), ("9", bench.express_store_vs_connect_pg_simple),
             ("10", bench.churn), ("11", bench.growth)]
    for number_, step in steps:
        if number_ in only:
            step()
    bench.worker_memory()
    bench.report()


if __name__ == "__main__":
    main()
