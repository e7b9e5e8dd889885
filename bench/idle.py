"""The daemon at rest with a big schedule, beside APScheduler's own job store holding the same.

Builds a SQLite store of N pending deliveries (100,000 by default), all due months ahead, and
starts ``campaign run`` on it; then builds an APScheduler 3 ``SQLAlchemyJobStore`` of N date
jobs (one per delivery, in its own SQLite file) and starts a ``BackgroundScheduler`` on it. For
each, in its own process: the time from the process's start to "ready" (the daemon's ``ready:``
log line; APScheduler's ``start()`` returned), then the CPU it uses over a window at rest (both
measured over the same window, so under the same load), and its RSS at the end.

    python bench/idle.py [--pending 100000] [--window 60] [--settle 20] [--add-sample 2000]

How the stores are made (neither is what is measured): the campaign store is a real
``campaign sync`` of 3,840 deliveries (40 embassies x 3 platforms x 32 posts), whose rows are
then copied, a new key and a due day a week later for each copy, to N. APScheduler's jobs are
written straight into its table, each row what ``SQLAlchemyJobStore.add_job`` writes (the
pickled ``Job.__getstate__()``), in one transaction: adding them one by one with ``add_job``
costs a transaction each (the issue measured 274 s for 100k). ``--add-sample`` times that many
``add_job`` calls on an empty store and prints the rate, for the record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pickle
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from daemon_world import (  # noqa: E402  (it puts tests/ on the path too)
    load_average,
    machine,
    print_table,
    process_cpu,
    process_memory,
)

FAR = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
"""The pending deliveries start here: months ahead, so nothing is due while measuring."""
MB = 1024 * 1024

APSCHEDULER_PROCESS = """
import sys, time
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=sys.argv[1])})
scheduler.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def build_campaign_store(folder: Path, pending: int) -> Path:
    """A store of ``pending`` scheduled deliveries, the first due at :data:`FAR`."""
    from campaign_builders import embassy, post, write_campaign

    from scheduler.service.databases import open_for_sync
    from scheduler.service.sync import sync_file

    embassies = [embassy(f"be-city{i:03d}", "Europe/Brussels", ["en"]) for i in range(40)]
    posts = [
        post(f"p{day:02d}{at}", day=day, time=at)
        for day in range(1, 17)
        for at in ("morning", "evening")
    ]
    window = {
        "start": FAR.date().isoformat(),
        "end": (FAR + dt.timedelta(days=15)).date().isoformat(),
    }
    path = write_campaign(folder, embassies=embassies, posts=posts, window=window)
    database_path = folder / "campaign.db"
    database, _ = open_for_sync(str(database_path), dry_run=False)
    try:
        sync_file(path, database, actor="bench", now=FAR - dt.timedelta(days=30))
    finally:
        database.close()
    _copy_deliveries(database_path, pending)
    return database_path


def _copy_deliveries(database_path: Path, pending: int) -> None:
    """Copies of the synced deliveries, each with its own key and due a week after the last."""
    with sqlite3.connect(database_path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(deliveries)")]
        copied = [c for c in columns if c != "id"]
        rows = connection.execute(f"SELECT {', '.join(copied)} FROM deliveries").fetchall()
        key, due = copied.index("key"), copied.index("due_at")
        extra: list[tuple[object, ...]] = []
        copy = 0
        while len(rows) + len(extra) < pending:
            copy += 1
            for row in rows[: pending - len(rows) - len(extra)]:
                moved = list(row)
                moved[key] = f"{row[key]}/copy{copy}"
                when = dt.datetime.fromisoformat(str(row[due])) + dt.timedelta(weeks=copy)
                moved[due] = when.strftime("%Y-%m-%d %H:%M:%S.%f")
                extra.append(tuple(moved))
        marks = ", ".join("?" for _ in copied)
        connection.executemany(
            f"INSERT INTO deliveries ({', '.join(copied)}) VALUES ({marks})", extra
        )


def build_apscheduler_store(folder: Path, pending: int) -> str:
    """An APScheduler job store of ``pending`` date jobs, written as ``add_job`` writes them."""
    from apscheduler.job import Job
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger
    from apscheduler.util import datetime_to_utc_timestamp

    url = f"sqlite:///{folder / 'apscheduler.db'}"
    store = SQLAlchemyJobStore(url=url)
    scheduler = BackgroundScheduler(jobstores={"default": store})
    store.start(scheduler, "default")
    rows = []
    for i in range(pending):
        when = FAR + dt.timedelta(minutes=i)
        job = Job(
            scheduler, id=f"delivery-{i}", func="builtins:print", args=(f"delivery {i}",),
            kwargs={}, name=f"delivery-{i}", trigger=DateTrigger(when), executor="default",
            misfire_grace_time=None, coalesce=True, max_instances=1, next_run_time=when,
        )  # fmt: skip
        rows.append({
            "id": job.id,
            "next_run_time": datetime_to_utc_timestamp(when),
            "job_state": pickle.dumps(job.__getstate__(), store.pickle_protocol),
        })  # fmt: skip
    with store.engine.begin() as connection:
        connection.execute(store.jobs_t.insert(), rows)
    store.shutdown()
    return url


def add_job_rate(folder: Path, sample: int) -> float:
    """Seconds per ``add_job`` into an empty SQLAlchemyJobStore (on a scheduler not started:
    each call is its own INSERT transaction, as when a stopped scheduler is filled)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    url = f"sqlite:///{folder / 'apscheduler-sample.db'}"
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)})
    scheduler.start(paused=True)
    start = time.perf_counter()
    for i in range(sample):
        scheduler.add_job(print, "date", run_date=FAR + dt.timedelta(minutes=i), id=f"d{i}")
    took = time.perf_counter() - start
    scheduler.shutdown(wait=False)
    return took / sample


def start_until(
    command: list[str], word: str, env: dict[str, str]
) -> tuple[subprocess.Popen[str], float, float]:
    """Start ``command``; return it, the seconds until a line of its output has ``word``, and
    the CPU seconds it had used by then (the part of a start that a busy machine changes less)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if word in line:
            return process, time.perf_counter() - start, process_cpu(process.pid)
    raise RuntimeError(f"{command[:3]} exited ({process.wait()}) before saying {word!r}")


def drain(process: subprocess.Popen[str]) -> None:
    """Keep reading a process's output so that it never blocks on a full pipe."""
    import threading

    assert process.stdout is not None
    stream = process.stdout
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds of rest measured")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds after ready first")
    parser.add_argument(
        "--add-sample", type=int, default=2000, help="add_job calls timed (0: none)"
    )
    options = parser.parse_args()
    print(f"machine: {machine()}; load average before: {load_average()}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        database = build_campaign_store(folder, options.pending)
        url = build_apscheduler_store(folder, options.pending)
        print(f"stores of {options.pending:,} built in {time.perf_counter() - started:.1f} s")
        env = {
            **os.environ,
            "PYTHONPATH": os.environ.get("PYTHONPATH") or str(ROOT),  # another checkout: before
            "CAMPAIGN_SECRETS_FILE": str(folder / "secrets.toml"),
        }
        daemon_command = [sys.executable, "-c", "from scheduler.cli import main; main()", "run",
                          "--database", str(database)]  # fmt: skip
        ours, our_ready, our_cpu = start_until(daemon_command, "ready:", env)
        drain(ours)
        apscheduler_command = [sys.executable, "-c", APSCHEDULER_PROCESS, url]
        theirs, their_ready, their_cpu = start_until(apscheduler_command, "ready", env)
        drain(theirs)
        ready = {ours.pid: our_ready, theirs.pid: their_ready}
        at_ready = {ours.pid: our_cpu, theirs.pid: their_cpu}
        try:
            time.sleep(options.settle)
            before = {p.pid: process_cpu(p.pid) for p in (ours, theirs)}
            wall = time.perf_counter()
            time.sleep(options.window)
            wall = time.perf_counter() - wall
            idle = {
                p.pid: 100 * (process_cpu(p.pid) - before[p.pid]) / wall for p in (ours, theirs)
            }
            rss = {p.pid: process_memory(p.pid)[0] / MB for p in (ours, theirs)}
        finally:
            for process in (ours, theirs):
                process.terminate()
                process.wait(60)
        rate = add_job_rate(folder, options.add_sample) if options.add_sample else None
    print(f"\n{options.pending:,} pending; at rest: {wall:.0f} s, from {options.settle:.0f} s "
          "after ready")  # fmt: skip
    named = (("campaign run", ours), ("APScheduler 3.11 SQLAlchemyJobStore", theirs))
    rows = [[name, f"{ready[p.pid]:.2f} s", f"{at_ready[p.pid]:.2f} s", f"{idle[p.pid]:.3f} %",
             f"{rss[p.pid]:.0f} MB"]
            for name, p in named]  # fmt: skip
    ratios = [
        _ratio(ready[ours.pid], ready[theirs.pid]),
        _ratio(at_ready[ours.pid], at_ready[theirs.pid]),
        _ratio(idle[ours.pid], idle[theirs.pid]),
        _ratio(rss[ours.pid], rss[theirs.pid]),
    ]
    rows.append(["ratio", *ratios])
    print_table(["", "start to ready", "its CPU", "idle CPU", "RSS"], rows)
    if rate is not None:
        print(f"\nAPScheduler add_job: {1000 * rate:.2f} ms each over {options.add_sample:,} "
              f"({rate * options.pending:.0f} s for {options.pending:,})")  # fmt: skip
    print(f"load average after: {load_average()}")


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs > 0 else "-"


if __name__ == "__main__":
    main()
