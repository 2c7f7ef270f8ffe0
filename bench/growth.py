#!/usr/bin/env python3
"""Figure 11 (issue 11, "Growth"): session_get, session_create and the cleanup as the
table grows from 100k to 1M to 10M live sessions (quick: 10k, 100k, 1M, the same 100x span).

Starts a cluster of its own with bench/run.sh's settings (durable commits, a big WAL, no
checkpoint unless asked for, no autovacuum, no JIT) and shared_buffers sized to hold the
largest table whole (BYTES_PER_SESSION, measured), in huge pages where the machine can
reserve them (HugePages: as root it sets vm.nr_hugepages for the run and puts it back
after; otherwise, or when the kernel gives fewer pages, huge_pages = off and the log says so).

Method.  Two databases, each with the extension, live side by side in the cluster:
`growth`, whose one table grows step by step (loaded up to each size in turn), and
`growth_base`, which keeps the smallest size throughout.  At every size each measurement
alternates between the two (A B, B A, ...: Bench.alternate), so every ratio "at N / at
100k" comes from runs side by side, seconds apart, on the same noisy shared machine, not
from a run minutes earlier; the ratio at the smallest size compares two equal tables and
shows what the pairing itself is worth (it should be 1).  Each side's server CPU time per
call (CpuPerCall: every cluster process, from /proc) is kept beside each ratio.

  session_get   random live sessions (bench/pgbench/pgsession_get.sql), touch_interval
                24h and every session accessed within 2 minutes of its load, so no write
                is due (as figure 1; the rows updated per call show it), 8 clients and,
                in the full run, 2
  session_create  bench/pgbench/pgsession_create.sql, synchronous_commit off (figure 4);
                the sessions it made are deleted afterwards, so every size starts alike
  cleanup       rows/s of CALL session_cleanup_in_batches() removing the same number of
                expired sessions (100k; quick 20k) loaded among the live ones of each
                side, after a VACUUM and a CHECKPOINT (as figure 5); CPU per row removed

The sessions are written straight into pgsession.sessions as its owner
(bench/sql/growth_load.sql, big chunks on two connections at once): each row is what
session_create would have written, checked against a real session_create's row in the
same table (same non-null columns, timeouts, expiry rules; Growth.check_rows).  Their
digests are random, so the primary key gets random inserts, as over time; the two other
indexes (cleanup_after, sub) are dropped before each load step and built again after it,
ten times cheaper than inserting into them, and as compact as an index that grows at its
right end (cleanup_after at creation) would be.  Then VACUUM ANALYZE and CHECKPOINT.

The cleanup's target is 0.8, as figure 5's: it finds the expired sessions through the
cleanup_after index and removes heap rows, so its cost per row should not depend on how
many live sessions lie beside them.

Writes results/growth.json (every point, every round), results/growth.dat and
results/growth.png (bench/growth.gp).  Run standalone as root:
  python3 bench/growth.py --mode quick --results /tmp/growth-results
or call growth(mode, results, log) (a list of Figures) from bench.py.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)
from bench import (SQL_DIR, STEP_TIMEOUT, Bench, CpuPerCall, Figure,  # noqa: E402
                   median_ratio, proc_stat, table_rows)
from bench import log as print_log  # noqa: E402

# sizes: live sessions of the growing table, the first also the baseline's; expired: the
# sessions each cleanup run removes; get_clients: session_get's client counts.
MODES = {
    "full": dict(sizes=[100_000, 1_000_000, 10_000_000], expired=100_000, rounds=3,
                 seconds=4, warmup=1, get_clients=[8, 2], create_clients=8,
                 cleanup_rounds=3, chunk=500_000),
    "quick": dict(sizes=[10_000, 100_000, 1_000_000], expired=20_000, rounds=3, seconds=2,
                  warmup=1, get_clients=[8], create_clients=8, cleanup_rounds=2,
                  chunk=250_000),
}

# pg_total_relation_size of pgsession.sessions per live session, measured: 805 MB at 1M
# (heap 651 MB at fillfactor 80, indexes 154 MB); shared_buffers gets that for the
# largest size, plus the baseline, the expired sessions and some room.
BYTES_PER_SESSION = 845
LOADERS = 2  # connections loading at once
BIG, BASE = "growth", "growth_base"
SECONDARY_INDEXES = ("sessions_cleanup_after_idx", "sessions_sub_idx")
TARGETS = dict(get=0.85, create=0.8, cleanup=0.8)


def short(n):
    """100000 -> '100k', 10000000 -> '10M'."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


class HugePages:
    """Reserves 2 MB huge pages for a shared memory of `mb` MB (vm.nr_hugepages, as root)
    and gives them back in release().  ok: whether the kernel gave them all."""

    PATH = "/proc/sys/vm/nr_hugepages"

    def __init__(self, mb, log):
        self.previous, self.ok, self.why = None, False, ""
        # shared_buffers, wal_buffers and the rest of the shared memory (a few hundred MB
        # at these sizes; PostgreSQL fails to start, not silently, if it is too few).
        want = (mb + 512) // 2
        try:
            with open(self.PATH) as f:
                self.previous = int(f.read())
            free = self.free()
            if free < want:
                with open(self.PATH, "w") as f:
                    f.write(str(self.previous + want - free))
            got = self.free()
            self.ok = got >= want
            self.why = (f"{want} huge pages of 2 MB reserved" if self.ok else
                        f"the kernel gave {got} of {want} huge pages")
        except OSError as e:
            self.why = f"cannot reserve huge pages ({e.strerror})"
        if not self.ok:
            self.release()
        log(f"  {self.why}: huge_pages = {'on' if self.ok else 'off'}")

    @staticmethod
    def free():
        with open("/proc/meminfo") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("HugePages_Free:"))

    def release(self):
        if self.previous is None:
            return
        try:
            with open(self.PATH, "w") as f:
                f.write(str(self.previous))
        except OSError:
            pass
        self.previous = None


class Cluster:
    """A cluster of its own (test/lib/cluster.sh), stopped and removed by stop()."""

    def __init__(self, conf):
        script = (f'. "{REPO_DIR}/test/lib/cluster.sh"; DIR=$(make_scratch_dir growth); '
                  'PORT=$(free_port); echo "$DIR $PORT"; start_cluster "$DIR" "$PORT" "$@" >&2')
        out = subprocess.run(["bash", "-c", script, "bash", *conf], capture_output=True,
                             text=True, timeout=300)
        first = (out.stdout.split("\n") + [""])[0].split()
        self.dir, self.port = (first[0], int(first[1])) if len(first) == 2 else (None, None)
        if out.returncode != 0:
            self.stop()
            raise RuntimeError(f"the growth cluster did not start:\n{out.stderr}")

    def stop(self):
        if not self.dir:
            return
        subprocess.run(["bash", "-c", f'. "{REPO_DIR}/test/lib/cluster.sh"; '
                        f'stop_cluster "{self.dir}"'], timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


class Growth:
    def __init__(self, mode, results, log, cluster):
        self.mode, self.results, self.log = mode, results, log
        self.cfg = MODES[mode]
        self.base_size = self.cfg["sizes"][0]
        self.cluster = cluster
        self.db = {}
        for name in (BIG, BASE):
            bench = Bench(argparse.Namespace(port=cluster.port, mode=mode, results=results,
                                             client_bench="", client_reason="",
                                             scratch=cluster.dir))
            bench.env["PGDATABASE"] = name
            with open(os.path.join(cluster.dir, "data", "postmaster.pid")) as f:
                bench._postmaster = int(f.readline())
            self.db[name] = bench
        self.loaded = {BIG: 0, BASE: 0}
        self.points = []  # one dict per (what, size): rounds of both sides, CPU per call
        self.checks = {}

    def sql(self, name, text, options=None):
        return self.db[name].psql(text, db=name, options=options)

    # ---------------------------------------------------------------- data

    def setup(self):
        for name in (BIG, BASE):
            self.db[BIG].psql(f"CREATE DATABASE {name}", db="postgres")
            self.sql(name, "CREATE EXTENSION pgsession")
        self.grow(BASE, self.base_size)

    def grow(self, name, size):
        """Loads live sessions into one side up to `size`: the primary key gets random
        inserts; the other indexes are built after the load.  Then VACUUM ANALYZE,
        CHECKPOINT and pg_prewarm of the table and its indexes.  Logs the load rate."""
        begin = time.time()
        defs = self.sql(name, "SELECT string_agg(indexdef, ';') FROM pg_indexes "
                              "WHERE schemaname = 'pgsession' AND indexname IN "
                              f"{SECONDARY_INDEXES}")
        self.sql(name, "DROP INDEX " + ", ".join(f"pgsession.{i}" for i in SECONDARY_INDEXES))
        chunks = []
        lo = self.loaded[name] + 1
        while lo <= size:
            hi = min(lo + self.cfg["chunk"] - 1, size)
            chunks.append((lo, hi))
            lo = hi + 1
        running = []
        while chunks or running:
            while chunks and len(running) < LOADERS:
                lo, hi = chunks.pop(0)
                running.append(self.load_chunk(name, "live", lo, hi, wait=False))
            proc = running.pop(0)
            _, err = proc.communicate(timeout=STEP_TIMEOUT)
            if proc.returncode != 0:
                raise RuntimeError(f"loading sessions failed:\n{err}")
        loaded = time.time()
        self.sql(name, defs + ";")
        indexed = time.time()
        self.sql(name, "VACUUM (ANALYZE) pgsession.sessions")
        self.sql(name, "CHECKPOINT")
        # Into shared buffers, which are sized to hold them: CREATE INDEX writes past them
        # and VACUUM reads through a small ring, so without this the first reads of a point
        # come from the OS cache (a buffer read, a victim buffer and a page fault each).
        self.sql(name, "CREATE EXTENSION IF NOT EXISTS pg_prewarm; SELECT sum(pg_prewarm(c.oid)) "
                       "FROM pg_class c WHERE c.oid = 'pgsession.sessions'::regclass OR c.oid IN "
                       "(SELECT indexrelid FROM pg_index "
                       "WHERE indrelid = 'pgsession.sessions'::regclass)")
        count = size - self.loaded[name]
        self.loaded[name] = size
        total = self.sql(name, "SELECT pg_size_pretty(pg_total_relation_size("
                               "'pgsession.sessions'))")
        self.log(f"  {name}: {count:,} sessions loaded in {loaded - begin:.0f} s "
                 f"({count / max(loaded - begin, 1e-3):,.0f}/s), indexes built in "
                 f"{indexed - loaded:.0f} s, VACUUM ANALYZE + CHECKPOINT "
                 f"{time.time() - indexed:.0f} s; {size:,} live sessions, {total}")

    def load_chunk(self, name, kind, lo, hi, wait=True):
        """Writes sessions lo..hi of a kind (bench/sql/growth_load.sql) into one side."""
        args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"kind={kind}",
                "-v", f"lo={lo}", "-v", f"hi={hi}", "-f", os.path.join(SQL_DIR, "growth_load.sql")]
        proc = subprocess.Popen(args, env=self.db[name].env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        if wait:
            _, err = proc.communicate(timeout=STEP_TIMEOUT)
            if proc.returncode != 0:
                raise RuntimeError(f"loading {kind} sessions failed:\n{err}")
        return proc

    SHAPE = ("SELECT count(*), string_agg(DISTINCT (SELECT string_agg(key, ',' ORDER BY key) "
             "FROM jsonb_each(to_jsonb(s)) WHERE value <> 'null'), ' / '), "
             "string_agg(DISTINCT idle_timeout::text, ' / '), "
             "string_agg(DISTINCT (absolute_expires_at - created_at)::text, ' / '), "
             "bool_and(expires_at = least(last_accessed_at + idle_timeout, "
             "absolute_expires_at)), bool_and(cleanup_after <= expires_at), "
             "bool_and(last_accessed_at >= created_at), bool_and(expires_at > now()), "
             "string_agg(DISTINCT octet_length(id_hash)::text, ' / '), "
             "round(avg(pg_column_size(s.*))) FROM pgsession.sessions s WHERE ")

    def check_rows(self):
        """Compares the loaded sessions with one that session_create makes in the same
        table: the same non-null columns, timeouts, expiry rules and digest length;
        returns (and logs) both shapes; raises if they differ."""
        token = self.sql(BIG, "SELECT session_create(access_token => "
                              "left(repeat(md5('real'), 7), 200), sub => 'user-real', "
                              "data => jsonb_build_object('theme', 'dark', 'lang', 'en', "
                              "'csrf', md5('csrf real')), user_agent => 'Mozilla/5.0 (X11; "
                              "Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', "
                              "ip => '10.1.2.3')")
        key = f"sha256(convert_to('{token}', 'UTF8'))"
        real = self.sql(BIG, self.SHAPE + f"id_hash = {key}").split("|")
        loaded = self.sql(BIG, self.SHAPE + f"id_hash <> {key}").split("|")
        self.sql(BIG, f"SELECT session_delete('{token}')")
        self.checks = dict(real=real, loaded=loaded)
        self.log(f"  a session_create row: {'|'.join(real)}")
        self.log(f"  the loaded rows:      {'|'.join(loaded)}")
        if real[1:-1] != loaded[1:-1]:
            raise RuntimeError("the loaded sessions do not look like session_create's")

    # ---------------------------------------------------------------- measurements

    def pair(self, what, size, label, script, clients, options, defines):
        """One throughput point: a pgbench script on the growing table (at `size`) and on
        the baseline, alternately over rounds, with each side's server CPU per call."""
        cfg = self.cfg
        sides = (BIG, BASE)
        for name in sides:
            self.db[name].pgbench(script, clients, cfg["warmup"], defines(name), options)
        cpu = {name: CpuPerCall(self.db[name]) for name in sides}
        # buffer hits, reads, page faults, rows updated (session_get recording an access)
        costs = {name: [0, 0, 0, 0] for name in sides}

        def run(name):
            (hits, reads, updated), faults = self.buffer_counts(name), self.page_faults()
            tps = cpu[name].run(script, clients, cfg["seconds"], defines(name), options)
            hits_after, reads_after, updated_after = self.buffer_counts(name)
            costs[name][0] += hits_after - hits
            costs[name][1] += reads_after - reads
            costs[name][2] += self.page_faults() - faults
            costs[name][3] += updated_after - updated
            return tps

        self.log(f"  {label} at {short(size)} / at {short(self.base_size)}")
        runs = self.db[BIG].alternate(cfg["rounds"], lambda: run(BIG), lambda: run(BASE))
        per_call = {name: [round(c / max(cpu[name].calls, 1), 2) for c in costs[name]]
                    for name in sides}
        self.log(f"    per call: buffer hits {per_call[BIG][0]} / {per_call[BASE][0]}, "
                 f"reads {per_call[BIG][1]} / {per_call[BASE][1]}, "
                 f"page faults {per_call[BIG][2]} / {per_call[BASE][2]}, "
                 f"rows updated {per_call[BIG][3]} / {per_call[BASE][3]}")
        self.points.append(dict(what=what, label=label, size=size, unit="tps", value=runs[0],
                                baseline=runs[1], cpu=[cpu[BIG].us(), cpu[BASE].us()],
                                buffer_hits=[per_call[n][0] for n in sides],
                                buffer_reads=[per_call[n][1] for n in sides],
                                page_faults=[per_call[n][2] for n in sides],
                                rows_updated=[per_call[n][3] for n in sides]))

    def buffer_counts(self, name):
        """Shared buffer hits and reads so far in one side's database, and the rows updated
        in its sessions table (an access session_get recorded; pgbench's backends have
        exited, so their statistics are in)."""
        hits, reads, updated = self.sql(
            name, "SELECT blks_hit, blks_read, (SELECT n_tup_upd FROM pg_stat_user_tables "
                  "WHERE relid = 'pgsession.sessions'::regclass) FROM pg_stat_database "
                  "WHERE datname = current_database()").split("|")
        return int(hits), int(reads), int(updated)

    def page_faults(self):
        """Minor page faults of the cluster's processes so far: the postmaster's own and
        its reaped children's, and those of the children still running (/proc)."""
        pm = self.db[BIG]._postmaster
        fields = proc_stat(pm)
        faults = int(fields[7]) + int(fields[8])
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != pm:
                try:
                    fields = proc_stat(int(entry))
                except (OSError, IndexError):
                    continue
                if int(fields[1]) == pm:
                    faults += int(fields[7])
        return faults

    def cleanup_run(self, name):
        """One CALL session_cleanup_in_batches() on one side: rows removed per second, and
        the cluster's CPU time in microseconds per row removed."""
        due = ("SELECT count(*) FROM pgsession.sessions "
               "WHERE cleanup_after <= now() AND expires_at <= now()")
        before = int(self.sql(name, due))
        cpu0 = self.db[name].server_cpu()
        t0 = time.time()
        self.sql(name, "CALL session_cleanup_in_batches()")
        seconds = time.time() - t0
        removed = before - int(self.sql(name, due))
        cpu = self.db[name].server_cpu() - cpu0
        return removed / seconds, 1e6 * cpu / max(removed, 1), removed

    def cleanup(self, size):
        """The cleanup point: the same expired sessions loaded into both sides, removed
        side by side, the order alternating over rounds."""
        cfg = self.cfg
        label = f"cleanup rows/s ({cfg['expired']:,} expired)"
        self.log(f"  {label} at {short(size)} / at {short(self.base_size)}")
        rates = {BIG: [], BASE: []}
        cpus = {BIG: [], BASE: []}
        for r in range(cfg["cleanup_rounds"]):
            for name in (BIG, BASE):
                self.load_chunk(name, "expired", 1, cfg["expired"])
                self.sql(name, "VACUUM (ANALYZE) pgsession.sessions")
            self.sql(BIG, "CHECKPOINT")
            for name in (BIG, BASE) if r % 2 == 0 else (BASE, BIG):
                rate, us, removed = self.cleanup_run(name)
                if removed != cfg["expired"]:
                    raise RuntimeError(f"the cleanup removed {removed:,} sessions of "
                                       f"{cfg['expired']:,}")
                rates[name].append(rate)
                cpus[name].append(us)
            self.log(f"    round {r + 1}/{cfg['cleanup_rounds']}: A {rates[BIG][-1]:,.0f}  "
                     f"B {rates[BASE][-1]:,.0f} rows/s")
        self.points.append(dict(what="cleanup", label="cleanup rows/s", size=size,
                                unit="rows/s", value=rates[BIG], baseline=rates[BASE],
                                cpu=[round(statistics.median(cpus[n]), 2) for n in (BIG, BASE)],
                                removed=cfg["expired"]))

    def measure(self, size):
        """Every point at one size of the growing table."""
        cfg = self.cfg
        get = "-c pgsession.touch_interval=24h"
        ranges = {BIG: size, BASE: self.base_size}
        for clients in cfg["get_clients"]:
            self.pair(f"get{clients}", size, f"session_get tps, {clients} clients",
                      "pgsession_get.sql", clients, get, lambda n: dict(range=ranges[n]))
        started = self.sql(BIG, "SELECT now()")
        clients = cfg["create_clients"]
        self.pair("create", size, f"session_create tps, {clients} clients",
                  "pgsession_create.sql", clients, "-c synchronous_commit=off",
                  lambda n: {})
        # Remove what session_create made: its sessions alone are due an hour after the
        # measurement started (the loaded ones earlier), so the cleanup index finds them.
        for name in (BIG, BASE):
            self.sql(name, "DELETE FROM pgsession.sessions WHERE cleanup_after >= "
                           f"'{started}'::timestamptz + interval '1 hour' AND nonce IS NOT NULL")
        self.cleanup(size)

    # ---------------------------------------------------------------- report

    def figures(self):
        """A Figure per point: the largest size against the baseline carries the target,
        the others are context (the smallest one compares two equal tables)."""
        top = self.cfg["sizes"][-1]
        figures = []
        for p in self.points:
            ratio, spread = median_ratio(p["value"], p["baseline"])
            p["ratio"], p["spread"] = ratio, spread
            what = "get" if p["what"].startswith("get") else p["what"]
            at = short(p["size"]) + (" (growing table)" if p["size"] == self.base_size else "")
            notes = dict(get="random live sessions; touch_interval 24h",
                         create="synchronous_commit off",
                         cleanup=f"CALL session_cleanup_in_batches(), {p.get('removed', 0):,} "
                                 "expired among the live; CPU per row removed")[what]
            if "buffer_hits" in p:
                notes += (f"; per call here / at the baseline: buffer hits "
                          f"{p['buffer_hits'][0]} / {p['buffer_hits'][1]}, reads "
                          f"{p['buffer_reads'][0]} / {p['buffer_reads'][1]}, minor page faults "
                          f"{p['page_faults'][0]} / {p['page_faults'][1]}, rows updated "
                          f"{p['rows_updated'][0]} / {p['rows_updated'][1]}")
            if p["size"] != top:
                notes = "context; " + notes
            figures.append(Figure(f"11. growth: {p['label']} at {at} / at "
                                  f"{short(self.base_size)}", statistics.median(p["value"]),
                                  statistics.median(p["baseline"]), ratio, spread,
                                  TARGETS[what] if p["size"] == top else None, unit=p["unit"],
                                  notes=notes, rounds=len(p["value"]), cpu=p["cpu"]))
        return figures

    def write(self, seconds):
        doc = dict(mode=self.mode, config=self.cfg, base_size=self.base_size,
                   seconds=round(seconds), checks=self.checks, points=self.points)
        with open(os.path.join(self.results, "growth.json"), "w") as f:
            json.dump(doc, f, indent=2)
        columns = ["get8", "get2", "create", "cleanup"]
        with open(os.path.join(self.results, "growth.dat"), "w") as f:
            f.write("# live sessions, then for " + ", ".join(columns) + ": throughput at that "
                    f"size / at {short(self.base_size)} (median, lowest, highest over rounds) "
                    "and server CPU per call at that size / at the baseline; ? not measured\n")
            for size in self.cfg["sizes"]:
                cells = [str(size)]
                for what in columns:
                    p = next((p for p in self.points if p["what"] == what and p["size"] == size),
                             None)
                    if p is None or p["ratio"] is None:
                        cells += ["?"] * 4
                    else:
                        cpu = p["cpu"][0] / p["cpu"][1] if p["cpu"][1] else None
                        cells += [f"{p['ratio']:.4f}", f"{p['spread'][0]:.4f}",
                                  f"{p['spread'][1]:.4f}", f"{cpu:.4f}" if cpu else "?"]
                f.write(" ".join(cells) + "\n")
        self.plot()

    def plot(self):
        if not shutil.which("gnuplot"):
            self.log("  gnuplot not found: no plot (apt-get install gnuplot-nox)")
            return
        out = subprocess.run(["gnuplot", "-e", f"results='{self.results}'; "
                              f"base='{short(self.base_size)}'",
                              os.path.join(BENCH_DIR, "growth.gp")],
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            self.log(f"  gnuplot failed: {out.stderr.strip()}")
        else:
            self.log(f"  plot: {os.path.join(self.results, 'growth.png')}")


def growth(mode, results, log=print_log):
    """Figure 11: starts its own cluster, measures every size and returns the Figures;
    writes growth.json, growth.dat and growth.png into `results`."""
    cfg = MODES[mode]
    begin = time.time()
    top = cfg["sizes"][-1]
    buffers_mb = (BYTES_PER_SESSION * (top + cfg["sizes"][0] + 2 * cfg["expired"])) // 2**20
    buffers_mb = buffers_mb * 105 // 100 + 256
    log(f"== figure 11: growth, {', '.join(map(short, cfg['sizes']))} live sessions "
        f"(shared_buffers {buffers_mb} MB)")
    os.makedirs(results, exist_ok=True)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster = None
    huge = HugePages(buffers_mb + 64, log)
    try:
        cluster = Cluster(["fsync = on", "synchronous_commit = on",
                           f"shared_buffers = '{buffers_mb}MB'",
                           f"huge_pages = {'on' if huge.ok else 'off'}",
                           "wal_buffers = '64MB'", "max_wal_size = '32GB'",
                           "min_wal_size = '1GB'", "checkpoint_timeout = '1h'",
                           "autovacuum = off", "jit = off",
                           # The cleanup's own cost per row, not its pacing (figure 5).
                           "pgsession.cleanup_wal_rate_limit = 0"])
        run = Growth(mode, results, log, cluster)
        run.setup()
        for size in cfg["sizes"]:
            log(f"== {short(size)} live sessions")
            run.grow(BIG, size)
            if size == cfg["sizes"][0]:
                run.check_rows()
            run.measure(size)
        figures = run.figures()
        run.write(time.time() - begin)
    finally:
        if cluster:
            cluster.stop()
        huge.release()
        signal.signal(signal.SIGTERM, previous)
    log(f"  figure 11 took {time.time() - begin:.0f} s")
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, default="quick")
    parser.add_argument("--results", default=os.path.join(BENCH_DIR, "results"))
    args = parser.parse_args()
    figures = growth(args.mode, os.path.abspath(args.results))
    rows = table_rows([f.as_json() for f in figures])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print_log("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
