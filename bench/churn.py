#!/usr/bin/env python3
"""Figure 10 (issue 11): the sessions table in steady state under churn.

A cluster of its own (bench/run.sh's durability settings, but autovacuum at PostgreSQL's
defaults and the cleanup worker running every second) holds a population of sessions that
turns over continuously: creators make `rate` sessions a second under application ids
(session_create, numbered in order of creation), a reader calls session_get flat out on the
sessions still in use (created in the last `active` seconds; it records an access once per
pgsession.touch_interval), a toucher calls session_touch on them at a fixed rate, and the
sessions nobody uses any more expire `idle` seconds after their last access, for the
worker to remove.  Every session is gone `active + idle` seconds (one turnover) after its
creation, so the table holds at most rate * turnover sessions.

At the end of each turnover it samples the table's size (table, each index, TOAST), its
live and dead tuples, autovacuum runs, the worker's removals, and session_get's throughput
and CPU time per call (of the reader's own backend) in that turnover.  Figures: size after
20 turnovers / after 1 (target 1.2, lower) and session_get throughput in the last turnover
/ the first (target 0.9).  Writes RESULTS/churn.dat and draws RESULTS/churn.png.

    python3 bench/churn.py --mode quick --results /tmp/churn-results [--storage "k=v,..."]

(as root, with pgsession installed); bench.py runs it as churn(mode, results, log).
"""

import argparse
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
sys.path.insert(0, BENCH_DIR)
from bench import PGBENCH_DIR, Bench, Figure, proc_stat  # noqa: E402

REPO = os.path.dirname(BENCH_DIR)

# rate: sessions created per second; active: seconds a session is in use after its
# creation (read and touched); idle: its idle timeout; turnovers: how many the run lasts;
# touch_rate: session_touch calls per second; creators: creator connections (one pgbench
# thread each, each at rate / creators).
CHURN = {
    "full": dict(rate=5000, active=8, idle=12, turnovers=20, touch_rate=1000, creators=4,
                 shared_buffers="1GB"),
    "quick": dict(rate=1500, active=2, idle=4, turnovers=20, touch_rate=300, creators=2,
                  shared_buffers="512MB"),
}

# The session each creator saves: a user id (sub, indexed) and this payload.
DATA = '{"theme": "dark", "lang": "en", "cart": [1, 2, 3], "csrf": "%s"}' % ("x" * 43)

# The reader's and toucher's sessions are at least this many seconds old, so that a
# creator a little behind its schedule has made them already.
MARGIN = 0.5

TIMEOUT = 120


def cluster_sh(script):
    """Runs bash with test/lib/cluster.sh sourced; returns its standard output."""
    out = subprocess.run(["bash", "-c", ". test/lib/cluster.sh\n" + script], cwd=REPO,
                         capture_output=True, text=True, timeout=TIMEOUT)
    if out.returncode != 0:
        raise RuntimeError(f"cluster.sh failed:\n{out.stderr}")
    return out.stdout.strip()


def start_churn_cluster(cfg, extra=()):
    """Starts the figure's own cluster, with postgresql.conf lines `extra` after its own;
    returns (scratch directory, port)."""
    conf = ["fsync = on", "synchronous_commit = on",
            f"shared_buffers = '{cfg['shared_buffers']}'", "wal_buffers = '64MB'",
            "max_wal_size = '16GB'", "min_wal_size = '1GB'", "checkpoint_timeout = '1h'",
            "jit = off", "shared_preload_libraries = 'pgsession'",
            "pgsession.databases = 'bench'", "pgsession.cleanup_interval = '1s'", *extra]
    lines = " ".join("'" + line.replace("'", "'\\''") + "'" for line in conf)
    out = cluster_sh('DIR=$(make_scratch_dir churn); PORT=$(free_port); echo "$DIR $PORT"\n'
                     f'start_cluster "$DIR" "$PORT" {lines} >&2 || {{ rm -rf "$DIR"; exit 1; }}')
    directory, port = out.split()
    return directory, int(port)


def stop_churn_cluster(directory):
    cluster_sh(f"stop_cluster '{directory}'")
    shutil.rmtree(directory, ignore_errors=True)


class Churn:
    """One run of the churn workload against a cluster; samples() per turnover."""

    def __init__(self, bench, cfg, log):
        self.bench, self.cfg, self.log = bench, cfg, log
        self.turnover = cfg["active"] + cfg["idle"]
        self.procs = []
        self.progress = []  # (seconds since the reader started, tps) of the reader

    def defines(self):
        cfg = self.cfg
        return dict(start=f"{self.start:.6f}", rate=cfg["rate"],
                    lo=int(cfg["rate"] * MARGIN), hi=int(cfg["rate"] * cfg["active"]))

    def pgbench(self, script, clients, defines, name, rate=None, options="", progress=False):
        """Starts a pgbench (-M prepared, one thread per client, application_name `name`)
        for the whole run: the ramp and every turnover."""
        seconds = self.turnover * (self.cfg["turnovers"] + 1) + 2
        args = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients),
                "-T", str(seconds), "-f", os.path.join(PGBENCH_DIR, script)]
        for key, value in defines.items():
            args += ["-D", f"{key}={value}"]
        if rate:
            args += ["-R", str(rate)]
        if progress:
            args += ["-P", "1"]
        env = dict(self.bench.env, PGOPTIONS=options, PGAPPNAME=name)
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        self.procs.append(proc)
        return proc

    def read_progress(self, proc):
        """Collects the reader's per-second throughput from pgbench --progress."""
        for line in proc.stderr:
            m = re.match(r"progress: ([0-9.]+) s, ([0-9.]+) tps", line)
            if m:
                self.progress.append((float(m.group(1)), float(m.group(2))))

    def reader_cpu(self):
        """CPU seconds used so far by the backends of the session_get reader."""
        pids = self.bench.psql("SELECT pid FROM pg_stat_activity "
                               "WHERE application_name = 'churn_get'").split()
        ticks = 0
        for pid in pids:
            try:
                fields = proc_stat(int(pid))
            except (OSError, IndexError):
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def sample(self):
        """Sizes, tuples and counters of pgsession.sessions now, as a dict."""
        row = self.bench.psql(
            "SELECT pg_total_relation_size(t), pg_relation_size(t), "
            "pg_relation_size('pgsession.sessions_pkey'), "
            "pg_relation_size('pgsession.sessions_cleanup_after_idx'), "
            "pg_relation_size('pgsession.sessions_sub_idx'), n_live_tup, n_dead_tup, "
            "autovacuum_count, autoanalyze_count, n_tup_ins, n_tup_upd, n_tup_hot_upd, "
            "(SELECT removed_since_start FROM session_stats()), "
            "(SELECT count(*) FROM pgsession.sessions) "
            "FROM pg_stat_user_tables, CAST('pgsession.sessions' AS regclass) t "
            "WHERE relid = t")
        keys = ["total", "heap", "pkey", "cleanup_idx", "sub_idx", "live_tup", "dead_tup",
                "autovacuum", "autoanalyze", "inserted", "updated", "hot", "removed", "rows"]
        s = {k: int(v or 0) for k, v in zip(keys, row.split("|"))}
        s["cpu"] = self.reader_cpu()
        s["time"] = time.time()
        return s

    def run(self, storage):
        """Runs the workload for cfg['turnovers'] turnovers; returns one sample at the
        start and one at the end of each turnover."""
        cfg, bench = self.cfg, self.bench
        bench.psql("CREATE EXTENSION pgsession")
        if storage:
            bench.psql(f"ALTER TABLE pgsession.sessions SET ({storage})")
        self.start = time.time()
        defines = self.defines()
        self.pgbench(
            "churn_create.sql", cfg["creators"],
            dict(defines, seq=0, clients=cfg["creators"], data=DATA,
                 idle=f"{cfg['idle']} seconds"), "churn_create", rate=cfg["rate"],
            options="-c synchronous_commit=off")
        touch = f"-c pgsession.touch_interval={max(1, cfg['idle'] // 4)}s"
        self.pgbench("churn_touch.sql", 1, defines, "churn_touch", rate=cfg["touch_rate"],
                     options="-c synchronous_commit=off")
        reader = self.pgbench("churn_get.sql", 1, defines, "churn_get", progress=True,
                              options=touch)
        self.reader_started = time.time()
        threading.Thread(target=self.read_progress, args=(reader,), daemon=True).start()
        samples = []
        try:
            # Turnover 0 fills the table; every later one replaces its population.
            for k in range(0, cfg["turnovers"] + 1):
                time.sleep(max(0.0, self.start + (k + 1) * self.turnover - time.time()))
                samples.append(self.sample())
                self.check()
                if k == 0:
                    continue
                s, p = samples[-1], samples[-2]
                self.log(f"    turnover {k:2}: {s['total'] / 2**20:6.1f} MB (heap "
                         f"{s['heap'] / 2**20:.1f}, pkey {s['pkey'] / 2**20:.1f}, cleanup "
                         f"{s['cleanup_idx'] / 2**20:.1f}, sub {s['sub_idx'] / 2**20:.1f}), "
                         f"{s['rows']:,} rows, {s['dead_tup']:,} dead, autovacuum "
                         f"{s['autovacuum']}, created {(s['inserted'] - p['inserted']) / self.turnover:,.0f}/s, "
                         f"get {self.tps(p, s):,.0f}/s")
        finally:
            for proc in self.procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            for proc in self.procs:
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
        return samples

    def check(self):
        """Fails the run when one of its pgbench processes has stopped early."""
        for proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{' '.join(proc.args[-8:])} stopped early:\n"
                                   f"{proc.stdout.read()}\n{proc.stderr.read()}")

    def tps(self, before, after):
        """session_get calls per second between two samples, from the reader's progress
        lines (each second's line is counted in the window it ends in)."""
        lo, hi = before["time"] - self.reader_started, after["time"] - self.reader_started
        seconds = [tps for t, tps in self.progress if lo < t <= hi]
        return statistics.mean(seconds) if seconds else 0.0


def write_dat(path, samples, churn):
    """One line per turnover: what bench/churn.gp plots."""
    with open(path, "w") as f:
        f.write("# turnover seconds total_MB heap_MB pkey_MB cleanup_idx_MB sub_idx_MB rows "
                "dead_tup autovacuum removed get_tps get_cpu_us\n")
        for k, (p, s) in enumerate(zip(samples, samples[1:]), 1):
            f.write(f"{k} {s['time'] - samples[0]['time']:.1f} "
                    + " ".join(f"{s[key] / 2**20:.3f}" for key in
                               ("total", "heap", "pkey", "cleanup_idx", "sub_idx"))
                    + f" {s['rows']} {s['dead_tup']} {s['autovacuum']} {s['removed']} "
                    f"{churn.tps(p, s):.1f} {cpu_per_get(churn, p, s) or 0:.1f}\n")


def cpu_per_get(churn, before, after):
    """Microseconds of the reader's backend CPU per session_get between two samples."""
    calls = churn.tps(before, after) * (after["time"] - before["time"])
    return round(1e6 * (after["cpu"] - before["cpu"]) / calls, 1) if calls else None


def plot(results, log):
    if not shutil.which("gnuplot"):
        log("  gnuplot not found: no plot (apt-get install gnuplot-nox)")
        return
    out = subprocess.run(["gnuplot", "-e", f"results='{results}'",
                          os.path.join(BENCH_DIR, "churn.gp")],
                         capture_output=True, text=True, timeout=TIMEOUT)
    if out.returncode != 0:
        log(f"  gnuplot failed: {out.stderr.strip()}")
    else:
        log(f"  plot: {os.path.join(results, 'churn.png')}")


def figures(samples, churn, storage):
    """The figure's lines from the samples of one run."""
    cfg = churn.cfg
    first, last = samples[1], samples[cfg["turnovers"]]
    conditions = (f"{cfg['rate']:,} sessions/s created, in use {cfg['active']} s, idle "
                  f"timeout {cfg['idle']} s, worker every 1 s, autovacuum at its defaults"
                  + (f", table SET ({storage})" if storage else ""))
    tps = [churn.tps(p, s) for p, s in zip(samples, samples[1:])]
    cpu = [cpu_per_get(churn, samples[-2], last), cpu_per_get(churn, samples[0], first)]
    per_turnover = [t / tps[0] for t in tps[1:]] if tps[0] else []
    out = [Figure(f"10. churn: table+index size after {cfg['turnovers']} turnovers / after 1",
                  last["total"], first["total"], last["total"] / first["total"], None, 1.2,
                  better="lower", unit="bytes", notes=conditions),
           Figure("10. churn: session_get tps in the last turnover / the first", tps[-1],
                  tps[0], tps[-1] / tps[0] if tps[0] else None,
                  [min(per_turnover), max(per_turnover)] if per_turnover else None, 0.9,
                  unit="tps", notes="flat out on 1 connection beside the creators and the "
                  "toucher; spread: every later turnover / the first",
                  cpu=cpu if None not in cpu else None)]
    for key, label in (("heap", "table"), ("pkey", "primary key"),
                       ("cleanup_idx", "cleanup_after index"), ("sub_idx", "sub index")):
        out.append(Figure(f"10. churn: {label} size after {cfg['turnovers']} / after 1",
                          last[key], first[key], last[key] / first[key] if first[key] else None,
                          better="lower", unit="bytes", notes="context"))
    created = last["inserted"] - samples[0]["inserted"]
    out += [Figure("10. churn: dead tuples at the end", last["dead_tup"], unit="tuples",
                   notes=f"context; {last['rows']:,} rows in the table"),
            Figure("10. churn: autovacuum runs on the table", last["autovacuum"],
                   unit="runs", notes=f"context; {last['autoanalyze']} autoanalyze runs"),
            Figure("10. churn: sessions removed by the worker / created", last["removed"],
                   created, last["removed"] / created if created else None, unit="sessions",
                   notes=f"context; {created / (last['time'] - samples[0]['time']):,.0f} "
                   "created/s achieved")]
    return out


def churn(mode, results, log, storage="", conf=()):
    """Figure 10: runs the churn workload on a cluster of its own and returns its
    Figures; writes RESULTS/churn.dat and churn.png.  storage: parameters to set on
    pgsession.sessions first; conf: extra postgresql.conf lines (for experiments)."""
    cfg = CHURN[mode]
    turnover = cfg["active"] + cfg["idle"]
    log(f"== figure 10: churn, {cfg['rate'] * turnover:,} sessions turning over every "
        f"{turnover} s, {cfg['turnovers']} times (autovacuum at its defaults"
        + (f", table SET ({storage})" if storage else "")
        + (", " + ", ".join(conf) if conf else "") + ")")
    os.makedirs(results, exist_ok=True)
    directory, port = start_churn_cluster(cfg, conf)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        bench = Bench(argparse.Namespace(port=port, mode=mode, results=results,
                                         client_bench="", client_reason="", scratch=directory))
        bench.psql("CREATE DATABASE bench", db="postgres")
        run = Churn(bench, cfg, log)
        samples = run.run(storage)
        write_dat(os.path.join(results, "churn.dat"), samples, run)
        plot(results, log)
        return figures(samples, run, storage)
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop_churn_cluster(directory)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=CHURN, default="quick")
    parser.add_argument("--results", default=os.path.join(BENCH_DIR, "results"))
    parser.add_argument("--storage", default="",
                        help="storage parameters to set on pgsession.sessions first, e.g. "
                             "'autovacuum_vacuum_scale_factor=0.02' or autovacuum_enabled=off")
    parser.add_argument("--conf", action="append", default=[],
                        help="an extra postgresql.conf line, e.g. \"autovacuum_naptime = '5s'\" "
                             "(not part of the figure: for experiments)")
    args = parser.parse_args()
    from bench import log, table_rows
    begin = time.time()
    rows = table_rows([f.as_json() for f in churn(args.mode, args.results, log,
                                                  args.storage, args.conf)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        log("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    log(f"({time.time() - begin:.0f} s)")


if __name__ == "__main__":
    main()
