"""Scale-out: 1, 2 and 4 daemons on one PostgreSQL database, every delivery due at once; how
fast they drain it together, and how many posts the platforms received twice (must be 0).

    python bench/scaleout.py [--embassies 667] [--latency 0.05] [--max-in-flight 4]
                             [--daemons 1,2,4]

Each count of daemons gets a fresh database and fresh fakes. Drain: from the due instant to the
last post's answer at the fakes. The speed-up is against one daemon, in the same run. PostgreSQL
runs on this machine too: its CPU, the fakes' and the daemons' share the same cores.
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
    postgres_database,
    print_table,
    scratch_folder,
)

LEAD = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embassies", type=int, default=667, help="x 3 platforms: 2,001")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--max-in-flight", type=int, default=4, help="per daemon")
    parser.add_argument("--daemons", default="1,2,4")
    parser.add_argument("--lead", type=float, default=LEAD)
    args = parser.parse_args()

    print(f"machine: {machine()}; load average before: {load_average()}")
    rows = []
    first_drain = None
    for count in [int(part) for part in args.daemons.split(",")]:
        drain, cpu, fakes_cpu, duplicates, received, total = _run(args, count)
        first_drain = first_drain or drain
        rows.append([count, total, received, f"{drain:.1f} s", f"{first_drain / drain:.2f}x",
                     f"{cpu / total * 1000:.1f} ms", f"{fakes_cpu:.1f} s", duplicates,
                     load_average()])  # fmt: skip
    print_table(
        [
            "daemons",
            "deliveries",
            "at the fakes",
            "drain",
            "speed-up",
            "daemons' CPU/delivery",
            "fakes CPU",
            "duplicates",
            "load average",
        ],
        rows,
    )
    print(f"load average after: {load_average()}")


def _run(args: argparse.Namespace, count: int) -> tuple[float, float, float, int, int, int]:
    shape = Shape(embassies=args.embassies)
    with postgres_database() as url, scratch_folder("scaleout-") as folder, World(
        Path(folder), shape, latency=args.latency, database_url=url
    ) as world:  # fmt: skip
        with world.daemons(count, daemon={"max_in_flight": args.max_in_flight}) as run:
            run.wait_ready()
            due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=args.lead)
            world.due_at([due] * world.deliveries)
            while dt.datetime.now(dt.UTC) < due:
                time.sleep(0.01)
            cpu_start, fakes_start = sum(run.cpu()), cpu_self()
            received = world.wait_received()
            cpu_end, fakes_end = sum(run.cpu()), cpu_self()
        drain = max(received.arrivals.values()) + args.latency - due.timestamp()
        return (drain, cpu_end - cpu_start, fakes_end - fakes_start, received.duplicates,
                received.count, world.deliveries)  # fmt: skip


if __name__ == "__main__":
    main()
