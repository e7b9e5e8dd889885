"""The daemon's memory after one post to each of many accounts: it must not grow with accounts.

    python bench/accounts_rss.py [--embassies 167,334,667] [--latency 0.02] [--max-in-flight 8]

For each size, a fresh world (bench/daemon_world.py): E embassies x 3 platforms, one post each,
so E x 3 deliveries to E x 3 accounts (501, 1,002 and 2,001 by default), all due a few seconds
after the daemon is ready, on the fakes with ``--latency`` per request. Prints the daemon's RSS
once every post is at the fakes (and its peak), the adapters it keeps (``daemon.adapters_kept``,
256 by default) and the RSS added per account beyond the smallest size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from daemon_world import Shape, World, load_average, machine, print_table, scratch_folder

LEAD = 10.0
"""Seconds between the daemon's readiness and the due instant."""
MB = 1024 * 1024


def measure(embassies: int, latency: float, max_in_flight: int) -> tuple[int, float, float, float]:
    """Accounts, RSS and peak RSS (MB) once every post arrived, and the seconds it took."""
    with scratch_folder("accounts-rss-") as folder, World(
        Path(folder), Shape(embassies=embassies), latency=latency
    ) as world:  # fmt: skip
        with world.daemons(1, daemon={"max_in_flight": max_in_flight}) as run:
            run.wait_ready()
            due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LEAD)
            world.due_at([due] * world.deliveries)
            world.wait_received()
            took = time.time() - due.timestamp()
            rss, peak = run.memory()[0]
        return world.deliveries, rss / MB, peak / MB, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embassies", default="167,334,667", help="sizes, x 3 accounts each")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--max-in-flight", type=int, default=8, help="daemon.max_in_flight")
    args = parser.parse_args()
    print(f"machine: {machine()}; load average before: {load_average()}")
    rows = []
    first: tuple[int, float] | None = None
    for embassies in (int(size) for size in args.embassies.split(",")):
        accounts, rss, peak, took = measure(embassies, args.latency, args.max_in_flight)
        first = first or (accounts, rss)
        growth = (rss - first[1]) * 1024 / (accounts - first[0]) if accounts > first[0] else None
        per_account = "" if growth is None else f"{growth:.1f} KB"
        rows.append(
            [f"{accounts:,}", f"{rss:.0f} MB", f"{peak:.0f} MB", per_account, f"{took:.0f} s"]
        )
        print(f"  {accounts:,} accounts: RSS {rss:.0f} MB (peak {peak:.0f} MB), sent in "
              f"{took:.0f} s; load average {load_average()}", flush=True)  # fmt: skip
    print_table(
        ["accounts (one post each)", "RSS after", "peak RSS", "RSS per added account", "sent in"],
        rows,
    )
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
