#!/usr/bin/env python3
"""The connect-sessions benchmark (run it through bench/run, which builds first).

Measures, client (wrk) and server on this machine:
  - throughput and p50/p99/max latency at 1, 32 and 256 connections for
    POST /v1/account_sessions (the seed's example body), POST /v1/account_sessions/claim
    (a fresh client secret per request) and POST /v1/accounts (type=custom),
    on each backend (SQLite; PostgreSQL when asked for and supported); create and
    claim again with a fresh Idempotency-Key on every request, as the SDKs send;
  - on PostgreSQL, pgbench's one-row insert of a session-sized row on the same
    server at the same client count, just before every row (PostgreSQL's own ceiling);
  - the ceiling: the server's HTTP stack answering the seed's example response from
    memory (bench/ceiling), hit with the same body and headers, at the same
    connection counts; every figure is printed beside it as a ratio;
  - RSS idle and after storing one million sessions (and how long storing took),
    create and claim at 32 connections with one million sessions stored against an
    empty store, and the time from process start to the first served request.

Writes bench/out/results.json, bench/out/table.txt and bench/out/throughput.svg.
Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Where cargo puts the binaries: $CARGO_TARGET_DIR when set (bench/run honours it), else target/.
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target").resolve()
SERVER_BIN = TARGET_DIR / "release" / "connect-sessions"
HELPER_BIN = TARGET_DIR / "release" / "bench-ceiling"
SEED_RESPONSE = BENCH / "seed-response.json"
WRK_DIR = BENCH / "wrk"

CREATE = "create"
CLAIM = "claim"
ACCOUNTS = "accounts"
CEILING = "ceiling"
# The same requests as create and claim, each with a fresh Idempotency-Key.
CREATE_IDEMPOTENT = "create_idempotent"
CLAIM_IDEMPOTENT = "claim_idempotent"
ENDPOINTS = {
    CREATE: "POST /v1/account_sessions",
    CREATE_IDEMPOTENT: "POST /v1/account_sessions (idempotent)",
    CLAIM: "POST /v1/account_sessions/claim",
    CLAIM_IDEMPOTENT: "POST /v1/account_sessions/claim (idempotent)",
    ACCOUNTS: "POST /v1/accounts",
    CEILING: "ceiling (POST /v1/account_sessions from memory)",
}
PATHS = {
    CREATE: "/v1/account_sessions",
    CREATE_IDEMPOTENT: "/v1/account_sessions",
    CLAIM: "/v1/account_sessions/claim",
    CLAIM_IDEMPOTENT: "/v1/account_sessions/claim",
    ACCOUNTS: "/v1/accounts",
    CEILING: "/v1/account_sessions",
}
# Each idempotent scenario and the plain one it is compared with.
PLAIN_OF = {CREATE_IDEMPOTENT: CREATE, CLAIM_IDEMPOTENT: CLAIM}
# PostgreSQL's own ceiling: pgbench's table and transaction script (bench/pgbench/).
PGBENCH_DIR = BENCH / "pgbench"
# The seed's curl example (shared/seed/create-an-account-session.md), form-encoded as
# curl -d sends it (brackets percent-encoded, as the SDKs do too).
SEED_COMPONENTS = (
    "&components%5Baccount_onboarding%5D%5Benabled%5D=true"
    "&components%5Bpayments%5D%5Benabled%5D=true"
    "&components%5Bpayouts%5D%5Benabled%5D=true"
    "&components%5Bbalances%5D%5Benabled%5D=true"
)
# Where the ceiling's request names an account that exists nowhere: it never looks.
CEILING_ACCOUNT = "acct_1NkDjjJyhOZfPCWt"


class HarnessError(Exception):
    """The benchmark itself broke (not a slow server: a broken run)."""


class Unsupported(Exception):
    """A backend the binary refuses; the run goes on without it."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------ machine


def machine_info() -> dict:
    info: dict = {"cores": os.cpu_count(), "kernel": platform.release()}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_mib"] = round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    try:
        models = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        info["cpu"] = models[0] if models else None
    except OSError:
        pass
    try:
        info["os"] = next(
            line.split("=", 1)[1].strip('"')
            for line in Path("/etc/os-release").read_text().splitlines()
            if line.startswith("PRETTY_NAME=")
        )
    except (OSError, StopIteration):
        pass
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    info["wrk"] = (wrk.stdout + wrk.stderr).splitlines()[0] if (wrk.stdout + wrk.stderr) else None
    git = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    info["commit"] = git.stdout.strip() or None
    return info


# ------------------------------------------------------------------ processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port: int, method: str, path: str, key: str | None = None, body: str | None = None,
         timeout: float = 10.0) -> tuple[int, bytes]:
    """One request on a fresh connection; (status, body)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Process:
    """A server process we started: readiness, CPU time per thread, memory."""

    def __init__(self, name: str, argv: list[str], port: int, log_path: Path | None,
                 env: dict | None = None):
        self.name = name
        self.port = port
        self.argv = argv
        self.log_file = open(log_path, "ab") if log_path else subprocess.DEVNULL
        self.log_path = log_path
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=self.log_file,
            env={**os.environ, **(env or {})},
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            try:
                status, _ = http(self.port, "GET", "/healthz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.005)
        raise HarnessError(f"{self.name} did not answer /healthz within {timeout}s: {self.tail()}")

    def tail(self) -> str:
        if not self.log_path:
            return ""
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
            return " | ".join(lines[-3:])
        except OSError:
            return ""

    def threads_cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) per thread group: tokio workers, sqlite-writer..."""
        groups: dict[str, float] = {}
        task_dir = Path(f"/proc/{self.proc.pid}/task")
        for task in task_dir.iterdir():
            try:
                stat = (task / "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1: stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
            group = re.sub(r"[-_]?\d+$", "", comm) or comm
            groups[group] = groups.get(group, 0.0) + seconds
        return groups

    def memory(self) -> dict[str, int]:
        """VmHWM, VmRSS, RssAnon, RssFile in KiB, from /proc/PID/status."""
        wanted = ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem")
        values = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in wanted:
                values[name] = int(rest.split()[0])
        return values

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log_file is not subprocess.DEVNULL:
            self.log_file.close()


def postgres_cpu() -> float:
    """CPU seconds used so far by PostgreSQL's processes (its backends do the SQL work),
    those that have exited included: a backend that ends (pgbench's, at the end of its
    run) takes its CPU time with it, and the postmaster, which reaps it, then counts it
    among its children's (cutime, cstime)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1: stat.rindex(")")]
        if comm.startswith("postgres"):
            fields = stat[stat.rindex(")") + 2:].split()
            total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLOCK_TICKS


def system_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return total - idle, total


# ------------------------------------------------------------------ wrk


def lua_string(value: str) -> str:
    return json.dumps(value)  # ASCII only here: JSON's escapes are Lua's


def idempotency_key_prefix() -> str:
    """The first 24 characters of a fresh UUID4 ("xxxxxxxx-xxxx-4xxx-yxxx-"): idempotent.lua
    appends the thread's index and its request counter (12 hex digits), so every key of a
    wrk run is a UUID-shaped string of its own, and no two runs share one."""
    return str(uuid.uuid4())[:24]


def wrk_script(path: Path, out: Path, threads: int, method: str, body: str | None,
               headers: dict[str, str], claim_secrets: Path | None = None,
               key_prefix: str | None = None) -> None:
    """The Lua script of one wrk run: report.lua, then with `key_prefix` idempotent.lua (an
    Idempotency-Key per request), then with `claim_secrets` claim.lua (a secret per request)."""
    lines = [
        "-- Generated by bench/bench.py.",
        f"bench_out = {lua_string(str(out))}",
        f"bench_threads = {threads}",
        f"wrk.method = {lua_string(method)}",
    ]
    if body is not None:
        lines.append(f"wrk.body = {lua_string(body)}")
    for name, value in headers.items():
        lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    if claim_secrets is not None:
        lines.append(f"bench_secrets = {lua_string(str(claim_secrets))}")
    if key_prefix is not None:
        lines.append(f"bench_key_prefix = {lua_string(key_prefix)}")
    text = "\n".join(lines) + "\n\n" + (WRK_DIR / "report.lua").read_text()
    if key_prefix is not None:
        text += "\n" + (WRK_DIR / "idempotent.lua").read_text()
    if claim_secrets is not None:
        text += "\n" + (WRK_DIR / "claim.lua").read_text()
    path.write_text(text)


def wrk_threads(connections: int) -> int:
    return max(1, min(2, connections, os.cpu_count() or 2))


def run_wrk(url: str, script: Path, connections: int, seconds: float, out: Path,
            server: Process | None, database_processes: bool = False) -> dict:
    """Runs wrk; returns its Lua report plus CPU use of wrk, the server and the machine."""
    threads = wrk_threads(connections)
    if out.exists():
        out.unlink()
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{int(seconds)}s",
            "--timeout", "10s", "-s", str(script), url]
    server_cpu_before = server.threads_cpu() if server else {}
    postgres_before = postgres_cpu() if database_processes else 0.0
    busy_before, total_before = system_cpu()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = proc.stdout.read().decode(errors="replace")
    stderr = proc.stderr.read().decode(errors="replace")
    busy_after, total_after = system_cpu()
    server_cpu_after = server.threads_cpu() if server else {}
    postgres_used = (postgres_cpu() - postgres_before) if database_processes else 0.0
    if proc.returncode != 0 or not out.exists():
        raise HarnessError(f"wrk failed ({proc.returncode}): {stderr.strip() or stdout.strip()}")
    report = json.loads(out.read_text())
    duration = report["duration_us"] / 1e6
    requests = report["requests"]
    ok = report["statuses"].get("200", 0)
    report["seconds"] = duration
    report["rps"] = requests / duration if duration else 0.0
    report["ok"] = ok
    report["non_200"] = requests - ok
    report["socket_errors"] = sum(
        report["errors"][k] for k in ("connect", "read", "write", "timeout"))
    report["connections"] = connections
    report["threads"] = threads
    report["wrk_cpu_s"] = usage.ru_utime + usage.ru_stime
    report["machine_cpu_busy"] = (busy_after - busy_before) / max(1, total_after - total_before)
    cores = os.cpu_count() or 1
    elapsed = (total_after - total_before) / CLOCK_TICKS / cores
    report["loadavg_after"] = Path("/proc/loadavg").read_text().split()[0]
    if server:
        cpu = {k: server_cpu_after.get(k, 0.0) - server_cpu_before.get(k, 0.0)
               for k in server_cpu_after}
        report["server_cpu_s"] = sum(cpu.values())
        report["server_cpu_by_thread_s"] = {k: round(v, 3) for k, v in cpu.items() if v > 0}
        # CPU that neither wrk nor the server used: other processes on the machine.
        busy_s = (busy_after - busy_before) / CLOCK_TICKS
        if database_processes:
            report["postgres_cpu_s"] = postgres_used
        other = busy_s - report["server_cpu_s"] - report["wrk_cpu_s"] - postgres_used
        report["other_cpu_share"] = max(0.0, other / (elapsed * cores)) if elapsed else None
    lat = report["latency_us"]
    for key in ("p50", "p90", "p99", "p999", "max", "mean"):
        report[f"{key}_ms"] = lat[key] / 1000.0 if lat[key] is not None else None
    return report


# ------------------------------------------------------------------ backends


class Backend:
    name = ""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.count = 0

    def fresh_database(self, label: str) -> str: ...

    def serve_args(self) -> list[str]:
        return []

    def count_rows(self, url: str, sql: str) -> int | None: ...

    def cleanup(self) -> None: ...


class SqliteBackend(Backend):
    name = "sqlite"

    def fresh_database(self, label: str) -> str:
        self.count += 1
        path = self.workdir / f"{self.count:02d}-{label}.db"
        return f"sqlite://{path}"

    def path_of(self, url: str) -> Path:
        return Path(url[len("sqlite://"):])

    def count_rows(self, url: str, sql: str) -> int | None:
        uri = f"file:{self.path_of(url)}?mode=ro"
        with sqlite3.connect(uri, uri=True, timeout=30) as db:
            return db.execute(sql).fetchone()[0]

    def database_bytes(self, url: str) -> int:
        path = self.path_of(url)
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file()
                   and not p.name.endswith(".key"))

    def drop(self, url: str) -> None:
        path = self.path_of(url)
        for p in path.parent.glob(path.name + "*"):
            p.unlink(missing_ok=True)


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, workdir: Path, base_url: str, master_key: str, sslmode: str):
        super().__init__(workdir)
        self.base_url = base_url.rstrip("/")
        self.master_key = master_key
        # The server's connections: TLS only where the URL asks for it, as
        # pgbench's (sslmode=disable) beside it; `--postgres-sslmode prefer`
        # measures the cost of encryption on loopback instead.
        self.sslmode = sslmode
        self.databases: list[str] = []
        self.tag = f"bench_{os.getpid()}_{int(time.time())}"

    def psql(self, database: str, sql: str) -> str:
        result = subprocess.run(
            ["psql", f"{self.base_url}/{database}", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
            capture_output=True, text=True)
        if result.returncode != 0:
            raise HarnessError(f"psql: {result.stderr.strip()}")
        return result.stdout.strip()

    def fresh_database(self, label: str) -> str:
        self.count += 1
        name = f"{self.tag}_{self.count:02d}"
        self.psql("postgres", f'create database "{name}"')
        self.databases.append(name)
        return f"{self.base_url}/{name}?sslmode={self.sslmode}"

    @staticmethod
    def database_name(url: str) -> str:
        """The database a fresh_database URL names, without its parameters."""
        return url.rsplit("/", 1)[1].split("?", 1)[0]

    def serve_args(self) -> list[str]:
        return ["--master-keys", self.master_key]

    def count_rows(self, url: str, sql: str) -> int | None:
        try:
            return int(self.psql(self.database_name(url), sql))
        except (HarnessError, ValueError):
            return None

    def database_bytes(self, url: str) -> int | None:
        name = self.database_name(url)
        try:
            return int(self.psql("postgres", f"select pg_database_size('{name}')"))
        except (HarnessError, ValueError):
            return None

    def drop(self, url: str) -> None:
        name = self.database_name(url)
        try:
            self.psql("postgres", f'drop database if exists "{name}" with (force)')
        except HarnessError as error:
            log(f"could not drop {name}: {error}")

    def cleanup(self) -> None:
        for name in self.databases:
            try:
                self.psql("postgres", f'drop database if exists "{name}" with (force)')
            except HarnessError:
                pass


class Pgbench:
    """PostgreSQL's own ceiling: pgbench committing one session-sized row per transaction
    (bench/pgbench/session-insert.sql) into a table shaped like account_sessions with a
    unique index on a random 32-byte hash (bench/pgbench/session-table.sql), on the same
    server as the PostgreSQL rows, without TLS, on a database of its own per run."""

    RANDOM_BYTES = "gen_random_bytes(32)"
    # Without pgcrypto: 32 bytes from two MD5 digests of random().
    MD5_BYTES = "decode(md5(random()::text) || md5(random()::text), 'hex')"

    def __init__(self, bench: "Bench", backend: PostgresBackend):
        self.bench = bench
        self.backend = backend
        self.count = 0
        version = subprocess.run(["pgbench", "--version"], capture_output=True, text=True)
        if version.returncode != 0:
            raise Unsupported((version.stderr or version.stdout).strip() or "pgbench failed")
        self.version = version.stdout.strip()
        self.table_sql = (PGBENCH_DIR / "session-table.sql").read_text()
        self.script_text = (PGBENCH_DIR / "session-insert.sql").read_text()
        if self.RANDOM_BYTES not in self.script_text:
            raise HarnessError(f"{PGBENCH_DIR / 'session-insert.sql'} has no "
                               f"{self.RANDOM_BYTES}")

    def url(self, database: str) -> str:
        """pgbench's connection: the server's, without TLS."""
        base = f"{self.backend.base_url}/{database}"
        return base + ("&" if "?" in base else "?") + "sslmode=disable"

    def prepare(self) -> tuple[str, Path, str]:
        """A fresh database with the table; (its name, the script, the hash's expression)."""
        self.count += 1
        name = f"{self.backend.tag}_pgbench_{self.count:02d}"
        self.backend.psql("postgres", f'create database "{name}"')
        self.backend.databases.append(name)
        try:
            self.backend.psql(name, "create extension if not exists pgcrypto")
            hash_sql = self.RANDOM_BYTES
        except HarnessError:
            hash_sql = self.MD5_BYTES
        self.backend.psql(name, self.table_sql)
        script = self.bench.workdir / "pgbench" / f"{name}.sql"
        script.parent.mkdir(exist_ok=True)
        script.write_text(self.script_text.replace(self.RANDOM_BYTES, hash_sql))
        return name, script, hash_sql

    def drop(self, name: str) -> None:
        if self.bench.args.keep:
            return
        try:
            self.backend.psql("postgres", f'drop database if exists "{name}" with (force)')
            self.backend.databases.remove(name)
        except HarnessError as error:
            log(f"could not drop {name}: {error}")

    def run(self, database: str, script: Path, clients: int, seconds: int) -> dict:
        """One pgbench run; its figures plus the CPU of pgbench, PostgreSQL and the machine."""
        threads = min(2, clients)
        argv = ["pgbench", "--no-vacuum", "-f", str(script), "-c", str(clients),
                "-j", str(threads), "-T", str(int(seconds)), "-M", "prepared",
                self.url(database)]
        postgres_before = postgres_cpu()
        busy_before, total_before = system_cpu()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout_bytes, stderr_bytes = proc.communicate()
        # communicate() reaped it: its CPU comes from the children's rusage delta.
        busy_after, total_after = system_cpu()
        postgres_used = postgres_cpu() - postgres_before
        stdout = stdout_bytes.decode(errors="replace")
        stderr = stderr_bytes.decode(errors="replace")
        result = parse_pgbench(stdout)
        result.update({"clients": clients, "threads": threads, "argv": argv,
                       "exit_code": proc.returncode, "output": stdout,
                       "stderr": stderr.strip()[-2000:]})
        if proc.returncode != 0 or result.get("tps") is None:
            raise HarnessError(f"pgbench failed ({proc.returncode}): "
                               f"{stderr.strip()[-500:] or stdout.strip()[-500:]}")
        result["postgres_cpu_s"] = postgres_used
        result["machine_cpu_busy"] = (busy_after - busy_before) / max(1, total_after - total_before)
        result["busy_s"] = (busy_after - busy_before) / CLOCK_TICKS
        result["elapsed_s"] = (total_after - total_before) / CLOCK_TICKS / (os.cpu_count() or 1)
        return result

    def measure(self, clients: int) -> dict:
        """Warm-up and measured run at `clients`, like an HTTP row, on a fresh database."""
        args = self.bench.args
        name, script, hash_sql = self.prepare()
        try:
            warm = None
            if args.warmup > 0:
                warm = self.run_with_cpu(name, script, clients, args.warmup)
            result = self.run_with_cpu(name, script, clients, args.duration)
            result["rows_stored"] = self.backend.count_rows(
                f"{self.backend.base_url}/{name}", "select count(*) from bench_sessions")
        finally:
            self.drop(name)
        result["hash"] = hash_sql
        result["version"] = self.version
        if warm is not None:
            result["warmup"] = {k: warm.get(k) for k in ("transactions", "failed", "tps")}
        transactions = result.get("transactions") or 0
        if transactions:
            result["pgbench_cpu_us_per_transaction"] = result["pgbench_cpu_s"] / transactions * 1e6
            result["postgres_cpu_us_per_transaction"] = (
                result["postgres_cpu_s"] / transactions * 1e6)
        if result["failed"] or (warm or {}).get("failed"):
            raise HarnessError(f"pgbench: {result['failed']} failed transactions")
        expected = transactions + (warm or {}).get("transactions", 0)
        if result["rows_stored"] is not None and result["rows_stored"] < expected:
            raise HarnessError(f"pgbench: {result['rows_stored']} rows stored for {expected} "
                               "transactions")
        return result

    def run_with_cpu(self, database: str, script: Path, clients: int, seconds: int) -> dict:
        before = os.times()
        result = self.run(database, script, clients, seconds)
        after = os.times()
        result["pgbench_cpu_s"] = ((after.children_user - before.children_user)
                                   + (after.children_system - before.children_system))
        other = result["busy_s"] - result["pgbench_cpu_s"] - result["postgres_cpu_s"]
        cores = os.cpu_count() or 1
        result["other_cpu_share"] = (max(0.0, other / (result["elapsed_s"] * cores))
                                     if result["elapsed_s"] else None)
        return result


def parse_pgbench(text: str) -> dict:
    """The figures of pgbench's summary (PostgreSQL 11 to 17 wordings)."""
    def number(pattern: str) -> float | None:
        match = re.search(pattern, text, re.MULTILINE)
        return float(match.group(1)) if match else None

    transactions = number(r"^number of transactions actually processed: (\d+)")
    failed = number(r"^number of failed transactions: (\d+)")
    return {
        "transactions": int(transactions) if transactions is not None else None,
        "failed": int(failed) if failed is not None else 0,
        "duration_s": number(r"^duration: (\d+) s"),
        "latency_avg_ms": number(r"^latency average = ([\d.]+) ms"),
        "latency_stddev_ms": number(r"^latency stddev = ([\d.]+) ms"),
        "initial_connection_ms": number(r"^initial connection time = ([\d.]+) ms"),
        # Without the time taken to connect: "without initial connection time" since
        # PostgreSQL 14, "excluding connections establishing" before.
        "tps": number(r"^tps = ([\d.]+) \((?:without initial connection time|"
                      r"excluding connections establishing)\)"),
    }


# ------------------------------------------------------------------ one server instance


class Instance:
    """A fresh database with one platform and one Custom account, served by the binary."""

    def __init__(self, bench: "Bench", backend: Backend, label: str):
        self.bench = bench
        self.backend = backend
        self.url = backend.fresh_database(label)
        created = subprocess.run(
            [str(SERVER_BIN), "platforms", "create", "--name", "Bench", "--database", self.url],
            capture_output=True, text=True)
        if created.returncode != 0:
            message = (created.stderr.strip().splitlines() or ["(no message)"])[-1]
            backend.drop(self.url)
            raise Unsupported(message)
        self.keys = json.loads(created.stdout)
        self.port = free_port()
        self.log_path = bench.workdir / f"server-{backend.name}-{label}.log"
        self.server = Process(
            f"connect-sessions ({backend.name})",
            [str(SERVER_BIN), "serve", "--listen", f"127.0.0.1:{self.port}",
             "--database", self.url, *backend.serve_args()],
            self.port, self.log_path if bench.args.server_log else None)
        try:
            self.server.wait_ready()
        except HarnessError as error:
            self.server.stop()
            raise Unsupported(str(error)) from error
        status, body = http(self.port, "POST", "/v1/accounts", self.keys["secret_key"],
                            "type=custom")
        if status != 200:
            raise HarnessError(f"creating the account answered {status}: {body[:300]!r}")
        self.account = json.loads(body)["id"]

    def stop(self, drop: bool = True) -> None:
        self.server.stop()
        if drop and not self.bench.args.keep:
            self.backend.drop(self.url)
            if self.log_path.exists():
                self.log_path.unlink()

    # -- requests

    def headers(self, endpoint: str) -> dict[str, str]:
        """The scenario's fixed headers (idempotent.lua adds an Idempotency-Key per request)."""
        endpoint = PLAIN_OF.get(endpoint, endpoint)
        key = self.keys["publishable_key" if endpoint == CLAIM else "secret_key"]
        return {"Authorization": f"Bearer {key}",
                "Content-Type": "application/x-www-form-urlencoded"}

    def body(self, endpoint: str) -> str | None:
        endpoint = PLAIN_OF.get(endpoint, endpoint)
        if endpoint == CREATE:
            return f"account={self.account}{SEED_COMPONENTS}"
        if endpoint == ACCOUNTS:
            return "type=custom"
        return None  # claim: per request, from the secrets file

    def fill(self, count: int, concurrency: int, keep_last: int = 0,
             secrets_out: Path | None = None) -> dict:
        """Creates `count` sessions through the API (bench-ceiling fill)."""
        argv = [str(HELPER_BIN), "fill", "--addr", f"127.0.0.1:{self.port}",
                "--key", self.keys["secret_key"], "--account", self.account,
                "--count", str(count), "--concurrency", str(concurrency),
                "--keep-last", str(keep_last)]
        if secrets_out:
            argv += ["--secrets-out", str(secrets_out)]
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise HarnessError(f"fill failed: {result.stderr.strip()}")
        return json.loads(result.stdout)

    def sessions_stored(self) -> int | None:
        return self.backend.count_rows(self.url, "select count(*) from account_sessions")

    def claims_stored(self) -> int | None:
        return self.backend.count_rows(self.url, "select count(*) from embedded_sessions")

    def idempotency_records(self) -> int | None:
        """Idempotency keys the server keeps (None if its schema has no such table)."""
        try:
            return self.backend.count_rows(self.url, "select count(*) from idempotency_keys")
        except sqlite3.Error:
            return None


# ------------------------------------------------------------------ the benchmark


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="csbench-", dir=args.workdir))
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.scripts = self.workdir / "wrk"
        self.scripts.mkdir()
        self.results: dict = {
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "mode": "quick" if args.quick else "full",
            "config": {
                "duration_s": args.duration, "warmup_s": args.warmup,
                "connections": args.connections, "backends": args.backends,
                "million": args.million, "fill_concurrency": args.fill_concurrency,
                "startup_runs": args.startup_runs, "server_log": bool(args.server_log),
                "paired_ceiling": args.pair, "quiet_wait_s": args.quiet_wait,
                "quiet_threshold": args.quiet_threshold, "idempotent": args.idempotent,
                "pgbench": args.pgbench, "postgres_sslmode": args.postgres_sslmode,
            },
            "machine": machine_info(),
            "ceiling": {},
            "backends": {},
            "skipped": {},
        }
        self.failures: list[str] = []
        self.use_private_binaries()
        self.script_count = 0
        self.ceiling_server: Process | None = None
        self.pgbench: Pgbench | None = None

    # -- one measurement

    def use_private_binaries(self) -> None:
        """Runs copies of the two binaries from the work directory, under names of their own:
        a rebuild in the repository cannot swap the binary under a running benchmark, and a
        `pkill connect-sessions` aimed at someone else's server cannot end ours."""
        global SERVER_BIN, HELPER_BIN
        bin_dir = self.workdir / "bin"
        bin_dir.mkdir()
        for name, source in (("cs-under-test", SERVER_BIN), ("cs-bench-helper", HELPER_BIN)):
            shutil.copy2(source, bin_dir / name)
        self.results["config"]["server_bin"] = str(SERVER_BIN)
        SERVER_BIN = bin_dir / "cs-under-test"
        HELPER_BIN = bin_dir / "cs-bench-helper"

    def wait_quiet(self) -> None:
        """Waits (up to --quiet-wait seconds) until other processes leave the machine alone."""
        if self.args.quiet_wait <= 0:
            return
        deadline = time.monotonic() + self.args.quiet_wait
        announced = False
        while True:
            busy_before, total_before = system_cpu()
            time.sleep(1)
            busy_after, total_after = system_cpu()
            share = (busy_after - busy_before) / max(1, total_after - total_before)
            if share <= self.args.quiet_threshold:
                return
            if time.monotonic() > deadline:
                log(f"  the machine is still busy ({share:.0%} CPU used by other processes): "
                    "measuring anyway")
                return
            if not announced:
                log(f"  waiting for the machine to quiet down ({share:.0%} CPU used by other "
                    "processes)")
                announced = True

    def measure_ceiling(self, connections: int, label: str) -> dict:
        """The ceiling at `connections`: warm-up and run, like any other row."""
        headers = {"Authorization": "Bearer sk_test_" + "x" * 99,
                   "Content-Type": "application/x-www-form-urlencoded"}
        body = f"account={CEILING_ACCOUNT}{SEED_COMPONENTS}"
        result = self.measure(CEILING, self.ceiling_server.port, connections, headers, body,
                              self.ceiling_server, label, paired=False)
        self.check(result, f"ceiling c={connections}")
        return result

    def timing(self, endpoint: str) -> tuple[int, int]:
        """(warm-up, measured) seconds of a scenario's runs. Quick mode keeps the idempotent
        scenarios brief, 1 s without warm-up, so that it stays under a minute."""
        if self.args.quick and endpoint in PLAIN_OF:
            return 0, 1
        return self.args.warmup, self.args.duration

    def measure_pgbench(self, clients: int, what: str) -> dict | None:
        """pgbench at `clients`, recorded in results["pgbench"]; None (and a failure) when it
        broke, so that the row is still measured."""
        # pgbench needs one server connection per client: beyond the server's
        # max_connections (less its reserved ones) it cannot run at all, and
        # the row is measured without it rather than failing the run.
        try:
            allowed = int(self.pgbench.backend.psql(
                "postgres", "select current_setting('max_connections')::int"
                            " - current_setting('superuser_reserved_connections')::int"))
        except (HarnessError, ValueError):
            allowed = None
        if allowed is not None and clients > allowed - 10:
            log(f"  pgbench -c {clients}: skipped (the server allows {allowed} connections)")
            self.results.setdefault("pgbench", {}).setdefault("skipped", []).append(
                {"before": what, "clients": clients, "max_connections": allowed})
            return None
        self.wait_quiet()
        try:
            result = self.pgbench.measure(clients)
        except HarnessError as error:
            self.fail(f"pgbench before {what} c={clients}: {error}")
            return None
        runs = self.results.setdefault("pgbench", {}).setdefault("runs", [])
        result["run"] = len(runs)
        result["before"] = what
        runs.append(result)
        log(f"  pgbench -c {clients}: {result['tps']:.0f} tps, latency average "
            f"{result['latency_avg_ms']:.2f} ms")
        return result

    def measure(self, endpoint: str, port: int, connections: int, headers: dict,
                body: str | None, server: Process | None, label: str,
                secrets: tuple[Path, Path] | None = None, paired: bool = True) -> dict:
        """Warm-up, then the measured run; checks every request answered 200. With `paired`,
        the ceiling is measured at the same connections just before, so the row's ratios
        compare two runs a few seconds apart (figures drift on a shared machine); on
        PostgreSQL, pgbench is measured right after it, at the same client count.
        Idempotent scenarios send a fresh Idempotency-Key with every request."""
        self.wait_quiet()
        for process in (server, self.ceiling_server):
            if process and process.proc.poll() is not None:
                raise HarnessError(f"{process.name} (pid {process.proc.pid}) exited with "
                                   f"{process.proc.returncode} before a run: {process.tail()}")
        on_postgres = label.startswith(PostgresBackend.name)
        ceiling = self.measure_ceiling(connections, label + "-pair") \
            if paired and self.args.pair else None
        pgbench = self.measure_pgbench(connections, f"{label} {endpoint}") \
            if paired and on_postgres and self.pgbench else None
        idempotent = endpoint in PLAIN_OF
        self.script_count += 1
        base = self.scripts / f"{self.script_count:03d}-{label}-{endpoint}-c{connections}"
        url = f"http://127.0.0.1:{port}{PATHS[endpoint]}"
        threads = wrk_threads(connections)
        key_prefixes = []
        warmup, duration = self.timing(endpoint)
        if warmup > 0:
            script = base.with_suffix(".warmup.lua")
            out = base.with_suffix(".warmup.json")
            prefix = idempotency_key_prefix() if idempotent else None
            key_prefixes.append(prefix)
            wrk_script(script, out, threads, "POST", body, headers,
                       secrets[0] if secrets else None, prefix)
            warm = run_wrk(url, script, connections, warmup, out, server,
                           on_postgres)
            # Claims that ran out of secrets in the warm-up answer 400, as they should; some
            # of those counted may still have been in flight when wrk stopped.
            unexpected = warm["non_200"] - warm["exhausted"]
            if unexpected > 0 or warm["socket_errors"]:
                self.fail(f"{label} {endpoint} c={connections} warm-up: {unexpected} non-200 "
                          f"{warm['statuses']}, {warm['socket_errors']} socket errors")
        else:
            warm = None
        script = base.with_suffix(".lua")
        out = base.with_suffix(".json")
        prefix = idempotency_key_prefix() if idempotent else None
        key_prefixes.append(prefix)
        wrk_script(script, out, threads, "POST", body, headers, secrets[1] if secrets else None,
                   prefix)
        result = run_wrk(url, script, connections, duration, out, server,
                         on_postgres)
        result["endpoint"] = endpoint
        result["warmup_s"], result["duration_s"] = warmup, duration
        if idempotent:
            # Keys are <prefix><thread, 2 hex digits><counter, 10 hex digits>.
            result["idempotency_key_prefixes"] = key_prefixes
        if ceiling is not None:
            result["ceiling"] = {k: ceiling[k] for k in (
                "rps", "p50_ms", "p99_ms", "max_ms", "other_cpu_share", "machine_cpu_busy")}
        if pgbench is not None:
            result["pgbench"] = {k: pgbench.get(k) for k in (
                "clients", "threads", "tps", "latency_avg_ms", "transactions",
                "pgbench_cpu_us_per_transaction", "postgres_cpu_us_per_transaction",
                "other_cpu_share", "machine_cpu_busy", "run")}
        if warm is not None:
            result["warmup"] = {k: warm[k] for k in ("requests", "ok", "statuses", "exhausted",
                                                     "rps")}
        if result["requests"] and server:
            result["server_cpu_us_per_request"] = result["server_cpu_s"] / result["requests"] * 1e6
        if result["requests"] and "postgres_cpu_s" in result:
            result["postgres_cpu_us_per_request"] = (
                result["postgres_cpu_s"] / result["requests"] * 1e6)
        if result["requests"]:
            result["wrk_cpu_us_per_request"] = result["wrk_cpu_s"] / result["requests"] * 1e6
            result["bytes_per_response"] = result["bytes"] / result["requests"]
        return result

    def check(self, result: dict, what: str) -> None:
        if result["requests"] == 0:
            self.fail(f"{what}: no request completed")
        if result["non_200"]:
            self.fail(f"{what}: {result['non_200']} of {result['requests']} requests did not "
                      f"answer 200: {result['statuses']}")
        if result["socket_errors"]:
            self.fail(f"{what}: socket errors {result['errors']}")

    def fail(self, message: str) -> None:
        log(f"FAILED: {message}")
        self.failures.append(message)

    # -- the ceiling

    def start_ceiling(self) -> None:
        """The ceiling server, up for the whole run (idle between its measurements)."""
        port = free_port()
        self.ceiling_server = Process(
            "ceiling", [str(HELPER_BIN), "serve", "--listen", f"127.0.0.1:{port}",
                        "--response", str(SEED_RESPONSE)], port, self.workdir / "ceiling.log")
        self.ceiling_server.wait_ready()

    def ceiling(self) -> None:
        """The ceiling alone at every connection count (the chart's reference line)."""
        for connections in self.args.connections:
            self.wait_quiet()
            result = self.measure_ceiling(connections, "ceiling")
            self.results["ceiling"][str(connections)] = result
            log(f"ceiling c={connections}: {result['rps']:.0f} req/s, "
                f"p99 {result['p99_ms']:.2f} ms")

    # -- claims

    def claim_secrets(self, instance: Instance, label: str, warm_needed: int,
                      run_needed: int) -> tuple[Path, Path]:
        """Creates fresh sessions and splits their secrets into warm-up and run files."""
        total = warm_needed + run_needed
        path = self.workdir / f"secrets-{label}.txt"
        filled = instance.fill(total, self.args.fill_concurrency, keep_last=total,
                               secrets_out=path)
        secrets = path.read_text().split()
        if len(secrets) != total or len(set(secrets)) != total:
            raise HarnessError(f"fill returned {len(secrets)} secrets "
                               f"({len(set(secrets))} distinct) for {total}")
        warm = path.with_suffix(".warm.txt")
        run = path.with_suffix(".run.txt")
        warm.write_text("\n".join(secrets[:warm_needed]) + "\n")
        run.write_text("\n".join(secrets[warm_needed:]) + "\n")
        log(f"  {total} fresh sessions for the claims in {filled['seconds']:.1f} s "
            f"({filled['per_second']:.0f}/s)")
        return warm, run

    def measure_claims(self, instance: Instance, connections: int, label: str,
                       expected_rps: float, secrets: tuple[Path, Path] | None = None,
                       endpoint: str = CLAIM) -> dict:
        """Claims at `connections`, each of a fresh secret; retried with more secrets
        when the run drew them all before its end. `endpoint` CLAIM_IDEMPOTENT adds a fresh
        Idempotency-Key to every claim."""
        estimate = max(expected_rps, 200.0)
        for attempt in range(4):
            if secrets is None:
                warmup, duration = self.timing(endpoint)
                warm_needed = int(estimate * warmup * 2) + 100 if warmup > 0 else 0
                run_needed = int(estimate * duration * 2) + 100
                secrets = self.claim_secrets(instance, f"{label}-c{connections}-{attempt}",
                                             warm_needed, run_needed)
            before = instance.claims_stored()
            result = self.measure_on(instance, endpoint, connections, label, secrets)
            after = instance.claims_stored()
            if result["exhausted"] == 0:
                if before is not None and after is not None:
                    self.check_claims_stored(result, after - before, label, connections)
                return result
            log(f"  claims ran out of secrets ({result['exhausted']} requests without one): "
                "again with more")
            # The run's own rate counts the fast refusals of the exhausted requests:
            # useless as an estimate. Claims went faster than twice the estimate.
            estimate *= 2.5
            secrets = None
        raise HarnessError("claims kept running out of secrets")

    def measure_on(self, instance: Instance, endpoint: str, connections: int, label: str,
                   secrets: tuple[Path, Path] | None = None) -> dict:
        """`measure` on an instance; for an idempotent scenario, also checks that the server
        kept one idempotency record per request answered (the keys reached it, and none
        was a repeat)."""
        idempotent = endpoint in PLAIN_OF
        before = instance.idempotency_records() if idempotent else None
        result = self.measure(endpoint, instance.port, connections, instance.headers(endpoint),
                              instance.body(endpoint), instance.server, label, secrets)
        after = instance.idempotency_records() if idempotent else None
        if before is not None and after is not None:
            stored = after - before
            counted = result["ok"] + result.get("warmup", {}).get("ok", 0)
            result["idempotency_records_during_runs"] = stored
            # Requests in flight when wrk stops may add one per connection per wrk run.
            if not counted <= stored <= result["requests"] + \
                    result.get("warmup", {}).get("requests", 0) + 2 * connections:
                self.fail(f"{label} {endpoint} c={connections}: {stored} idempotency records "
                          f"stored for {counted} requests answered 200")
        return result

    def check_claims_stored(self, result: dict, stored: int, label: str,
                            connections: int) -> None:
        """Every counted 200 is one stored claim; requests in flight when wrk stops (at most
        one per connection, at the end of the warm-up and of the run) may add some."""
        counted = result["ok"] + result.get("warmup", {}).get("ok", 0)
        result["claims_stored_during_runs"] = stored
        result["claims_counted"] = counted
        if not counted <= stored <= counted + 2 * connections:
            self.fail(f"{label} claim c={connections}: {stored} claims stored in the database "
                      f"for {counted} answered 200")

    # -- one backend

    def backend_matrix(self, backend: Backend) -> dict:
        """Every scenario at every connection count, each row on a fresh server and database.
        An idempotent scenario runs right after its plain one at the same connections, so
        that the two compare runs a few seconds apart."""
        out: dict = {"endpoints": {}}
        groups = [(CREATE, CREATE_IDEMPOTENT), (ACCOUNTS,), (CLAIM, CLAIM_IDEMPOTENT)]
        if not self.args.idempotent:
            groups = [group[:1] for group in groups]
        for group in groups:
            for endpoint in group:
                out["endpoints"][endpoint] = {}
            for connections in self.args.connections:
                for endpoint in group:
                    self.backend_row(backend, out, endpoint, connections)
        return out

    def backend_row(self, backend: Backend, out: dict, endpoint: str, connections: int) -> None:
        label = f"{endpoint}-c{connections}"
        instance = Instance(self, backend, label)
        try:
            if endpoint in (CLAIM, CLAIM_IDEMPOTENT):
                # The rate to expect, for how many secrets to create beforehand.
                done = out["endpoints"].get(CLAIM, {}).get(str(connections)) \
                    or out["endpoints"][CREATE].get(str(connections), {})
                result = self.measure_claims(instance, connections, backend.name,
                                             done.get("rps", 1000.0), endpoint=endpoint)
            else:
                result = self.measure_on(instance, endpoint, connections, backend.name)
            self.check(result, f"{backend.name} {endpoint} c={connections}")
            out["endpoints"][endpoint][str(connections)] = result
            extra = ""
            if result.get("pgbench"):
                extra = (f", {result['rps'] / result['pgbench']['tps']:.2f}x pgbench's "
                         f"{result['pgbench']['tps']:.0f} tps")
            log(f"{backend.name} {endpoint} c={connections}: {result['rps']:.0f} req/s,"
                f" p99 {result['p99_ms']:.2f} ms, non-200 {result['non_200']}{extra}")
        finally:
            instance.stop()

    def million(self, backend: Backend, out: dict) -> None:
        """RSS idle and after N sessions; create and claim at 32 connections, empty vs N."""
        connections = 32 if 32 in self.args.connections else self.args.connections[0]
        target = self.args.million
        instance = Instance(self, backend, "million")
        phase: dict = {"connections": connections, "target_sessions": target}
        out["million"] = phase
        try:
            time.sleep(0.5)
            phase["rss_idle_kib"] = instance.server.memory()
            log(f"{backend.name} idle: VmRSS {phase['rss_idle_kib'].get('VmRSS')} KiB, "
                f"VmHWM {phase['rss_idle_kib'].get('VmHWM')} KiB")
            empty_create = self.measure(CREATE, instance.port, connections,
                                        instance.headers(CREATE), instance.body(CREATE),
                                        instance.server, backend.name + "-empty")
            self.check(empty_create, f"{backend.name} create (empty store)")
            empty_claim = self.measure_claims(instance, connections, backend.name + "-empty",
                                              empty_create["rps"])
            self.check(empty_claim, f"{backend.name} claim (empty store)")
            phase["empty"] = {CREATE: empty_create, CLAIM: empty_claim}
            phase["empty_sessions_stored"] = instance.sessions_stored()

            stored = instance.sessions_stored() or 0
            to_create = max(0, target - stored)
            claim_rate = empty_claim["rps"]
            warm_needed = int(claim_rate * self.args.warmup * 2) + 100 \
                if self.args.warmup > 0 else 0
            run_needed = int(claim_rate * self.args.duration * 2) + 100
            keep = min(to_create, warm_needed + run_needed)
            log(f"{backend.name}: storing {to_create} more sessions ({stored} stored) with "
                f"{self.args.fill_concurrency} connections...")
            secrets_path = self.workdir / "secrets-million.txt"
            filled = instance.fill(to_create, self.args.fill_concurrency, keep_last=keep,
                                   secrets_out=secrets_path)
            phase["fill"] = filled
            phase["sessions_stored"] = instance.sessions_stored()
            phase["database_bytes"] = backend.database_bytes(instance.url)
            phase["rss_after_fill_kib"] = instance.server.memory()
            log(f"{backend.name}: {to_create} sessions in {filled['seconds']:.1f} s "
                f"({filled['per_second']:.0f}/s); VmRSS "
                f"{phase['rss_after_fill_kib'].get('VmRSS')} KiB, VmHWM "
                f"{phase['rss_after_fill_kib'].get('VmHWM')} KiB")

            loaded_create = self.measure(CREATE, instance.port, connections,
                                         instance.headers(CREATE), instance.body(CREATE),
                                         instance.server, backend.name + "-loaded")
            self.check(loaded_create, f"{backend.name} create ({target} stored)")
            secrets = secrets_path.read_text().split()
            if len(secrets) >= warm_needed + run_needed and len(set(secrets)) == len(secrets):
                warm = secrets_path.with_suffix(".warm.txt")
                run = secrets_path.with_suffix(".run.txt")
                warm.write_text("\n".join(secrets[:warm_needed]) + "\n")
                run.write_text("\n".join(secrets[warm_needed:]) + "\n")
                pair: tuple[Path, Path] | None = (warm, run)
            else:
                pair = None
            loaded_claim = self.measure_claims(instance, connections, backend.name + "-loaded",
                                               claim_rate, pair)
            self.check(loaded_claim, f"{backend.name} claim ({target} stored)")
            phase["loaded"] = {CREATE: loaded_create, CLAIM: loaded_claim}
            phase["rss_end_kib"] = instance.server.memory()
            for endpoint in (CREATE, CLAIM):
                empty = phase["empty"][endpoint]
                loaded = phase["loaded"][endpoint]
                ratio = loaded["rps"] / empty["rps"] if empty["rps"] else None
                phase[f"{endpoint}_throughput_ratio"] = ratio
                phase[f"{endpoint}_cost"] = 1 - ratio if ratio is not None else None

            log(f"{backend.name}: with {phase['sessions_stored']} stored, create "
                f"{phase['create_throughput_ratio']:.2f}x and claim "
                f"{phase['claim_throughput_ratio']:.2f}x the empty store's throughput")
        finally:
            instance.stop(drop=False)
        # Start-up on the filled database, then it goes.
        try:
            phase["startup_filled_ms"] = self.startup_runs(
                backend, [instance.url] * max(3, self.args.startup_runs // 2))
        finally:
            if not self.args.keep:
                backend.drop(instance.url)

    def startup_runs(self, backend: Backend, urls: list[str]) -> dict:
        """bench-ceiling startup: spawn, poll /healthz as fast as possible, SIGTERM."""
        port = free_port()
        template = [str(SERVER_BIN), "serve", "--listen", f"127.0.0.1:{port}",
                    "--database", "{url}", *backend.serve_args()]
        timings = []
        # One run per URL (each may be a fresh database), one process each.
        for url in urls:
            argv = [str(HELPER_BIN), "startup", "--addr", f"127.0.0.1:{port}", "--runs", "1",
                    "--", *[a.replace("{url}", url) for a in template]]
            result = subprocess.run(argv, capture_output=True, text=True)
            if result.returncode != 0:
                raise HarnessError(f"startup timing failed: {result.stderr.strip()}")
            timings.extend(json.loads(result.stdout)["runs_ms"])
        return {"runs_ms": [round(t, 2) for t in timings],
                "median_ms": statistics.median(timings), "min_ms": min(timings),
                "max_ms": max(timings)}

    def startup(self, backend: Backend, out: dict) -> None:
        runs = self.args.startup_runs
        fresh = []
        for index in range(runs):
            url = backend.fresh_database(f"startup-fresh-{index}")
            fresh.append(url)
        try:
            out["startup_fresh_ms"] = self.startup_runs(backend, fresh)
        finally:
            for url in fresh:
                if not self.args.keep:
                    backend.drop(url)
        existing = backend.fresh_database("startup-existing")
        try:
            # An existing database: migrated, with a platform (so no default one is created).
            subprocess.run([str(SERVER_BIN), "platforms", "create", "--database", existing],
                           capture_output=True, text=True, check=True)
            out["startup_existing_ms"] = self.startup_runs(backend, [existing] * runs)
        finally:
            if not self.args.keep:
                backend.drop(existing)
        log(f"{backend.name} start-up to first served request: median "
            f"{out['startup_fresh_ms']['median_ms']:.1f} ms on a new database, "
            f"{out['startup_existing_ms']['median_ms']:.1f} ms on an existing one")

    # -- everything

    def backends(self) -> list[Backend]:
        backends: list[Backend] = []
        for name in self.args.backends:
            if name == "sqlite":
                backends.append(SqliteBackend(self.workdir))
            elif name == "postgres":
                backend = self.postgres()
                if backend:
                    backends.append(backend)
            else:
                raise HarnessError(f"unknown backend {name!r}")
        return backends

    def postgres(self) -> PostgresBackend | None:
        def skip(reason: str) -> None:
            print(f"postgres: SKIPPED: {reason}", flush=True)
            self.results["skipped"]["postgres"] = reason

        if not shutil.which("psql"):
            skip("psql is not installed (apt-get install postgresql-client)")
            return None
        key = subprocess.run([str(SERVER_BIN), "generate-master-key"], capture_output=True,
                             text=True)
        if key.returncode != 0:
            skip(f"connect-sessions generate-master-key failed: {key.stderr.strip()}")
            return None
        backend = PostgresBackend(self.workdir, self.args.postgres_url, key.stdout.strip(),
                                  self.args.postgres_sslmode)
        try:
            backend.psql("postgres", "select 1")
        except HarnessError as error:
            skip(f"no PostgreSQL server at {self.args.postgres_url}: {error}")
            return None
        # Does the binary take a postgres URL? Try on a fresh database.
        try:
            probe = Instance(self, backend, "probe")
        except Unsupported as refusal:
            skip(f"the binary refuses a postgres URL: {refusal}")
            backend.cleanup()
            return None
        probe.stop()
        if self.args.pgbench:
            self.setup_pgbench(backend)
        return backend

    def setup_pgbench(self, backend: PostgresBackend) -> None:
        """PostgreSQL's own ceiling, measured before every PostgreSQL row (--no-pgbench: not)."""
        if not shutil.which("pgbench"):
            reason = ("pgbench is not installed (bench/run installs it: apt-get install "
                      "postgresql-client, or postgresql-contrib where the client lacks it)")
        else:
            try:
                self.pgbench = Pgbench(self, backend)
                reason = None
            except Unsupported as error:
                reason = f"pgbench does not run: {error}"
        if reason:
            print(f"pgbench: SKIPPED: {reason}", flush=True)
            self.results["skipped"]["pgbench"] = reason
            return
        self.results["pgbench"] = {
            "version": self.pgbench.version,
            "table": self.pgbench.table_sql,
            "script": self.pgbench.script_text,
            "options": "--no-vacuum -f SCRIPT -c CONNECTIONS -j min(2, CONNECTIONS) "
                       "-T DURATION -M prepared, sslmode=disable",
            "runs": [],
        }

    def background_load(self) -> None:
        """Other processes' CPU before we start: this benchmark wants the machine to itself."""
        busy_before, total_before = system_cpu()
        time.sleep(2)
        busy_after, total_after = system_cpu()
        share = (busy_after - busy_before) / max(1, total_after - total_before)
        self.results["background_cpu_share_before"] = share
        self.results["loadavg_before"] = Path("/proc/loadavg").read_text().strip()
        if share > 0.05:
            log(f"WARNING: other processes use {share * 100:.0f}% of the machine's CPU "
                f"(load average {self.results['loadavg_before'].split()[0]}): absolute figures "
                "will be low and noisy; the 'other CPU %' column shows it per run")

    def run(self) -> int:
        log(f"work directory {self.workdir}; results go to {self.out}")
        self.background_load()
        try:
            self.start_ceiling()
            self.ceiling()
            for backend in self.backends():
                log(f"--- backend {backend.name}")
                out: dict = {}
                self.results["backends"][backend.name] = out
                try:
                    out.update(self.backend_matrix(backend))
                    self.startup(backend, out)
                    if self.args.million > 0:
                        self.million(backend, out)
                finally:
                    backend.cleanup()
        except HarnessError as error:
            self.fail(f"harness: {error}")
        finally:
            if self.ceiling_server:
                self.ceiling_server.stop()
            self.results["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(
                timespec="seconds")
            self.results["failures"] = self.failures
            self.write()
            if not self.args.keep:
                shutil.rmtree(self.workdir, ignore_errors=True)
        return 1 if self.failures else 0

    def write(self) -> None:
        import report  # bench/report.py

        path = self.out / "results.json"
        path.write_text(json.dumps(self.results, indent=2) + "\n")
        text = report.render(self.results)
        (self.out / "table.txt").write_text(text)
        print()
        print(text)
        try:
            import chart  # bench/chart.py

            chart.write(self.results, self.out / "throughput.svg")
            log(f"wrote {path}, {self.out / 'table.txt'} and {self.out / 'throughput.svg'}")
        except Exception as error:  # noqa: BLE001 — a chart must not hide the figures
            self.fail(f"chart: {error!r}")


def interrupted(signum, frame) -> None:
    raise KeyboardInterrupt  # so that every server we started is stopped on the way out


def main() -> int:
    global SERVER_BIN
    signal.signal(signal.SIGTERM, interrupted)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: every scenario ~2 s at 32 connections, SQLite only; "
                             "fails on any non-2xx answer")
    parser.add_argument("--backends", default="sqlite",
                        help="comma-separated: sqlite,postgres (default sqlite)")
    parser.add_argument("--duration", type=int, default=10,
                        help="whole seconds per measured run (default 10; quick 2)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="whole seconds of warm-up before each run (default 1; 0: none)")
    parser.add_argument("--connections", default="1,32,256",
                        help="connection counts (default 1,32,256)")
    parser.add_argument("--million", type=int, default=None,
                        help="sessions to store for the memory and scaling figures "
                             "(default 1000000; quick 50000; 0 skips)")
    parser.add_argument("--fill-concurrency", type=int, default=64,
                        help="connections used to store sessions before claims and for the "
                             "million (default 64)")
    parser.add_argument("--startup-runs", type=int, default=None,
                        help="start-up timings per case (default 10; quick 3)")
    parser.add_argument("--no-pair", dest="pair", action="store_false", default=None,
                        help="do not measure the ceiling again before every row (quick: never); "
                             "ratios then use the ceiling's own run")
    parser.add_argument("--quiet-wait", type=int, default=None,
                        help="before each measurement, wait up to this many seconds for other "
                             "processes to leave the CPU alone (default 60; quick 0)")
    parser.add_argument("--quiet-threshold", type=float, default=0.10,
                        help="the share of the machine's CPU other processes may use for it to "
                             "count as quiet (default 0.10)")
    parser.add_argument("--no-idempotent", dest="idempotent", action="store_false",
                        help="skip the idempotent scenarios (create and claim, each request "
                             "with a fresh Idempotency-Key)")
    parser.add_argument("--no-pgbench", dest="pgbench", action="store_false",
                        help="on PostgreSQL, do not measure pgbench (PostgreSQL's own ceiling) "
                             "before every row")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server (no database name): a fresh database is created per run")
    parser.add_argument("--postgres-sslmode", default="disable",
                        choices=["disable", "prefer", "require"],
                        help="the server's sslmode on PostgreSQL (default disable, as pgbench's)")
    parser.add_argument("--no-server-log", dest="server_log", action="store_false",
                        help="send the server's log to /dev/null instead of a file")
    parser.add_argument("--server-bin", default=str(SERVER_BIN),
                        help="the connect-sessions binary to measure (default: this "
                             "repository's target/release/connect-sessions, or "
                             "$CARGO_TARGET_DIR/release/connect-sessions, built by bench/run)")
    parser.add_argument("--out", default=str(BENCH / "out"), help="output folder")
    parser.add_argument("--workdir", default=None, help="where temporary databases go")
    parser.add_argument("--keep", action="store_true", help="keep databases, logs and scripts")
    args = parser.parse_args()
    if args.quick:
        args.duration = 2 if args.duration == 10 else args.duration
        args.connections = "32" if args.connections == "1,32,256" else args.connections
        args.backends = "sqlite"
        args.million = 50000 if args.million is None else args.million
        args.startup_runs = 3 if args.startup_runs is None else args.startup_runs
    args.warmup = 1 if args.warmup is None else args.warmup
    if args.quiet_wait is None:
        args.quiet_wait = 0 if args.quick else 60
    if args.pair is None:
        args.pair = not args.quick
    args.million = 1_000_000 if args.million is None else args.million
    args.startup_runs = 10 if args.startup_runs is None else args.startup_runs
    args.connections = [int(c) for c in str(args.connections).split(",") if c]
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    SERVER_BIN = Path(args.server_bin).resolve()
    for binary in (SERVER_BIN, HELPER_BIN):
        if not binary.exists():
            print(f"missing {binary}: run bench/run, which builds it", file=sys.stderr)
            return 2
    if not shutil.which("wrk"):
        print("wrk is not installed: run bench/run, which installs it", file=sys.stderr)
        return 2
    sys.path.insert(0, str(BENCH))
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
