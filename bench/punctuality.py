"""Punctuality: deliveries due one after another over a window; how late each reaches its
platform (the time its request arrived at the fake, minus its due instant).

    python bench/punctuality.py [--embassies 167] [--posts 1] [--window 180] [--latency 0.02]
    python bench/punctuality.py --embassies 667 --window 600     # the issue's 2,001 over 10 min

Deliveries are spread evenly over the window, one account after another (each account's posts
as far apart as the accounts are many). Prints p50, p99 and the worst lateness, how many arrived
early (before their due instant: must be 0), and the daemon's CPU per delivery.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from daemon_world import (
    Shape,
    World,
    cpu_self,
    load_average,
    machine,
    percentile,
    print_table,
    scratch_folder,
)

LEAD = 20.0
"""Seconds between the daemon's start and the first due instant."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embassies", type=int, default=167, help="x 3 platforms: 501")
    parser.add_argument("--posts", type=int, default=1, help="posts per account")
    parser.add_argument("--window", type=float, default=180.0, help="seconds")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--database", default=None, help="a URL; a fresh SQLite file by default")
    parser.add_argument("--lead", type=float, default=LEAD)
    args = parser.parse_args()

    print(f"machine: {machine()}; load average before: {load_average()}")
    shape = Shape(embassies=args.embassies, posts=args.posts)
    with (
        scratch_folder("punctuality-") as folder,
        World(Path(folder), shape, latency=args.latency, database_url=args.database) as world,
    ):
        with world.daemons(1) as run:
            run.wait_ready()
            first = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=args.lead)
            step = dt.timedelta(seconds=args.window / world.deliveries)
            world.due_at([first + step * number for number in range(world.deliveries)])
            while dt.datetime.now(dt.UTC) < first:
                time.sleep(0.01)
            cpu_start, fakes_start = run.cpu()[0], cpu_self()
            received = world.wait_received(timeout=args.window + 600)
            cpu_end, fakes_end = run.cpu()[0], cpu_self()
        due = world.due_by_text()
    lateness = [
        (instant - due[post].timestamp()) * 1000 for post, instant in received.arrivals.items()
    ]
    early = sum(1 for late in lateness if late < 0)
    daemon_cpu = cpu_end - cpu_start
    print_table(
        ["deliveries", "window", "latency", "p50 late", "p99 late", "max late", "early",
         "daemon CPU/delivery", "fakes CPU", "duplicates"],
        [[len(lateness), f"{args.window:.0f} s", f"{args.latency * 1000:.0f} ms",
          f"{percentile(lateness, 0.5):.0f} ms", f"{percentile(lateness, 0.99):.0f} ms",
          f"{max(lateness):.0f} ms", early, f"{daemon_cpu / world.deliveries * 1000:.1f} ms",
          f"{fakes_end - fakes_start:.1f} s", received.duplicates]],
    )  # fmt: skip
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
