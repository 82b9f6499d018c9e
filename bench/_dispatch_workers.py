"""bench/dispatch.py's delivery workers: each in a process of its own, with its CPU and memory
read from /proc.

Not a benchmark itself; imported by bench/dispatch.py (bench/ is on sys.path when it runs).
"""

from __future__ import annotations

import cProfile
import multiprocessing
import os
import queue
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _dispatch_sink import Sink
from pydantic import SecretStr
from sqlalchemy import func, select

from accord.core.db import Database, utcnow
from accord.core.settings import EmailBackend, Settings
from accord.delivery.worker import Worker
from accord.outbox.models import OutboxMessage

# --- the worker (its own process) ------------------------------------------------------------

SECRET = "bench-dispatch-secret-key-not-for-production"


def vm_status(field: str) -> float:
    """A /proc/self/status field (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settings_for(url: str, smtp_port: int, var_dir: str) -> Settings:
    return Settings(
        database_url=url,
        var_dir=Path(var_dir),
        secret_key=SecretStr(SECRET),
        base_url="https://accord.bench.example",
        email_backend=EmailBackend.smtp,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
    )


# Diagnostics only (--what-if): variations of src/, tried in the worker process alone.
WHAT_IFS = {
    "no-write-turns": "the SQLite worker does not look for connections waiting for the write"
    " lock (what fairness to web requests costs it)",
    "chunk-20": "worker.CHUNK = 20 (a transaction per 20 messages instead of 100)",
    "no-journal": "no hand-over journal (what writing each hand-over down costs; a crash may"
    " then re-send a whole chunk)",
}
WHAT_IF: list[str] = []


def _never(*args: object, **kwargs: object) -> bool:
    return False


def _none(*args: object, **kwargs: object) -> None:
    return None


def apply_what_if(names: list[str]) -> None:
    from accord.core import write_turns
    from accord.delivery import journal as journal_module
    from accord.delivery import worker as worker_module

    if "no-write-turns" in names:
        write_turns.let_waiters_in = _never
        write_turns.someone_waits = _never
    if "chunk-20" in names:
        worker_module.CHUNK = 20
    if "no-journal" in names:
        journal_module.open_for = _none


def worker_main(
    url: str,
    smtp_port: int,
    var_dir: str,
    signals: tuple[Any, Any, Any],
    seconds: float | None,
    profile_to: str | None,
    what_if: list[str],
) -> None:
    """Build a real Worker, wait for the start signal, then drain the outbox (or run for
    `seconds`), and report what it sent, its own wall and CPU time and its memory."""
    apply_what_if(what_if)
    settings = settings_for(url, smtp_port, var_dir)
    worker = Worker(Database.from_settings(settings), settings)
    with worker.db.session() as session:  # connect and warm up before the clock starts
        session.scalar(select(func.count()).select_from(OutboxMessage).limit(1))
    rss_ready = vm_status("VmRSS")
    ready, start, results = signals
    ready.put(os.getpid())
    start.wait()
    profiler = cProfile.Profile() if profile_to else None
    cpu0, began = os.times(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    sent = 0
    while True:
        done = worker.run_once()
        sent += done.sent
        if seconds is not None:
            if time.perf_counter() - began >= seconds:
                break
            continue
        if done.sent + done.skipped + done.deferred + done.failed:
            continue
        with worker.db.session() as session:  # nothing claimed: finished, or rows on lease
            left = session.scalar(
                select(func.count()).where(
                    OutboxMessage.state.in_(("queued", "sending")),
                    OutboxMessage.not_before <= utcnow(),
                )
            )
        if not left:
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - began
    if profiler is not None and profile_to is not None:
        profiler.disable()
        profiler.dump_stats(profile_to.replace("{pid}", str(os.getpid())))
    cpu1 = os.times()
    results.put(
        {
            "sent": sent,
            "elapsed": elapsed,
            "cpu": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
            "rss_ready_mb": rss_ready,
            "rss_mb": vm_status("VmRSS"),
            "hwm_mb": vm_status("VmHWM"),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def process_ticks(pid: int | None = None, name: str | None = None) -> int:
    """CPU clock ticks (user + system) used by process `pid`, or by every process called
    `name` (e.g. the PostgreSQL server's); 0 where /proc cannot be read."""
    pids = [pid] if pid is not None else [int(d) for d in os.listdir("/proc") if d.isdigit()]
    total = 0
    for p in pids:
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if name is not None and comm != name:
            continue
        fields = rest.split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


@dataclass
class Run:
    seconds: float  # parent's wall clock from the start signal to the last worker's report
    workers: list[dict[str, Any]]
    machine_busy: float  # share of all CPUs busy meanwhile (every process, ours or not)
    sink_cpu: float  # the sink processes' CPU, in cores
    postgres_cpu: float  # all postgres server processes' CPU, in cores

    def cpu_summary(self) -> str:
        workers = " + ".join(f"{w['cpu'] / w['elapsed']:.0%}" for w in self.workers)
        return (
            f"CPU: worker(s) {workers}, sink {self.sink_cpu:.0%}, postgres "
            f"{self.postgres_cpu:.0%} of a core; machine {self.machine_busy:.0%} busy "
            f"on {os.cpu_count()} CPUs"
        )

    @property
    def sent(self) -> int:
        return sum(int(w["sent"]) for w in self.workers)


def _await_ready(ready: Any, procs: list[Any]) -> None:
    """Each worker imports, connects and says so before the clock starts."""
    waiting = len(procs)
    while waiting:
        try:
            ready.get(timeout=1)
            waiting -= 1
        except queue.Empty:
            if not all(p.is_alive() for p in procs):
                raise RuntimeError("a worker died while starting") from None


def _collect(results: Any, procs: list[Any]) -> list[dict[str, Any]]:
    """Every worker's report; a worker that died reports nothing: do not wait 30 minutes."""
    reports: list[dict[str, Any]] = []
    deadline = time.monotonic() + 1800
    while len(reports) < len(procs):
        try:
            reports.append(results.get(timeout=1))
        except queue.Empty:
            dead = [p.name for p in procs if p.exitcode not in (None, 0)]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"worker(s) failed: {dead or 'timeout'}") from None
    return reports


def _join(procs: list[Any]) -> None:
    for proc in procs:
        proc.join(30)
        if proc.is_alive():
            proc.terminate()
            proc.join(10)


def run_workers(
    ctx: multiprocessing.context.SpawnContext,
    count: int,
    url: str,
    sinks: list[Sink],
    var_dir: str,
    *,
    seconds: float | None = None,
    profile_to: str | None = None,
) -> Run:
    start, ready, results = ctx.Event(), ctx.Queue(), ctx.Queue()
    procs = [
        ctx.Process(
            target=worker_main,
            args=(
                url,
                sinks[i % len(sinks)].port,
                var_dir,
                (ready, start, results),
                seconds,
                profile_to,
                WHAT_IF,
            ),
            name=f"bench-worker-{i}",
        )
        for i in range(count)
    ]
    for proc in procs:
        proc.start()
    _await_ready(ready, procs)
    busy0, total0 = cpu_jiffies()
    sink0, pg0 = _sink_ticks(sinks), process_ticks(name="postgres")
    began = time.perf_counter()
    start.set()
    try:
        reports = _collect(results, procs)
        ended = time.perf_counter()
        busy1, total1 = cpu_jiffies()
        sink1, pg1 = _sink_ticks(sinks), process_ticks(name="postgres")
    finally:
        _join(procs)
    for proc in procs:
        if proc.exitcode != 0:
            raise RuntimeError(f"{proc.name} exited with {proc.exitcode}")
    hz, wall = os.sysconf("SC_CLK_TCK"), ended - began
    return Run(
        wall,
        reports,
        (busy1 - busy0) / max(1, total1 - total0),
        (sink1 - sink0) / hz / wall,
        (pg1 - pg0) / hz / wall,
    )


def _sink_ticks(sinks: list[Sink]) -> int:
    return sum(process_ticks(sink.process.pid) for sink in sinks)
