"""Burst: every delivery due at the same instant; how long the daemon takes to drain them, against
the ideal its concurrency allows, and its CPU per delivery.

    python bench/burst.py [--embassies 334] [--latency 0.1] [--max-in-flight 32]
                          [--per-platform 16] [--profile FILE]

The ideal: the platforms' latency times the deliveries, over the calls the daemon may have under
way at once (its concurrency, and never more than one call at a time per account). Drain: from
the due instant to the last post's answer at the fakes. CPU per delivery: the daemon's CPU from
the due instant to the end of the drain, over the deliveries (the fakes' latency costs no CPU),
and in the steady part, between 10% and 90% of the posts (one-time costs left out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from daemon_world import (
    PLATFORMS,
    Shape,
    World,
    cpu_self,
    load_average,
    machine,
    print_table,
    scratch_folder,
)

LEAD = 20.0
"""Seconds between the daemon's start and the due instant: it is ready, and idle, by then."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embassies", type=int, default=334, help="x 3 platforms: 1,002")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per request")
    parser.add_argument("--max-in-flight", type=int, default=None, help="daemon.max_in_flight")
    parser.add_argument(
        "--per-platform",
        type=int,
        default=None,
        help="platforms.<name>.max_in_flight, the same for each platform",
    )
    parser.add_argument("--database", default=None, help="a URL; a fresh SQLite file by default")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the daemon here")
    parser.add_argument("--lead", type=float, default=LEAD)
    args = parser.parse_args()

    print(f"machine: {machine()}; load average before: {load_average()}")
    daemon = {} if args.max_in_flight is None else {"max_in_flight": args.max_in_flight}
    platforms = {}
    if args.per_platform is not None:
        platforms = {name: {"max_in_flight": args.per_platform} for name in PLATFORMS}
    shape = Shape(embassies=args.embassies)
    concurrency, ideal = _ideal(shape, args.latency, args.max_in_flight, args.per_platform)
    with scratch_folder("burst-") as folder, World(
        Path(folder), shape, latency=args.latency,
        database_url=args.database,
    ) as world:  # fmt: skip
        with world.daemons(1, daemon=daemon, platforms=platforms, profile=args.profile) as run:
            run.wait_ready()
            due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=args.lead)
            world.due_at([due] * world.deliveries)
            while dt.datetime.now(dt.UTC) < due:
                time.sleep(0.01)
            cpu_start, fakes_start = run.cpu()[0], cpu_self()
            steady = world.cpu_between(run)
            received = world.wait_received()
            cpu_end, fakes_end = run.cpu()[0], cpu_self()
            rss, peak = run.memory()[0]
        states = world.states()
    drain = max(received.arrivals.values()) + args.latency - due.timestamp()
    daemon_cpu = cpu_end - cpu_start
    print_table(
        ["deliveries", "latency", "concurrency", "drain", "ideal", "ratio", "daemon CPU",
         "CPU/delivery", "steady CPU/delivery", "fakes CPU", "RSS (peak)", "duplicates"],
        [[world.deliveries, f"{args.latency * 1000:.0f} ms", concurrency, f"{drain:.1f} s",
          f"{ideal:.1f} s", f"{drain / ideal:.2f}x", f"{daemon_cpu:.1f} s",
          f"{daemon_cpu / world.deliveries * 1000:.1f} ms", f"{steady * 1000:.1f} ms",
          f"{fakes_end - fakes_start:.1f} s",
          f"{rss / 2**20:.0f} MB ({peak / 2**20:.0f})", received.duplicates]],
    )  # fmt: skip
    print(f"states: {dict(states)}; at the fakes: {dict(received.by_platform)}")
    print(f"load average after: {load_average()}")


def _ideal(
    shape: Shape, latency: float, overall: int | None, per_platform: int | None
) -> tuple[int, float]:
    """The calls the settings allow at once, and the drain time they allow: each platform's
    share in rounds of its limit, every account's posts one after the other."""
    from scheduler.settings import DaemonSettings, Settings

    daemon = DaemonSettings(max_in_flight=overall or DaemonSettings().max_in_flight)
    platforms = {name: {"max_in_flight": per_platform} for name in PLATFORMS if per_platform}
    settings = Settings.model_validate({"daemon": daemon, "platforms": platforms})
    if hasattr(settings, "calls_at_once"):
        limits = settings.calls_at_once()
    else:  # a version from before the per-platform limits (to measure it)
        limits = dict.fromkeys(PLATFORMS, settings.daemon.max_in_flight)
    concurrency = min(settings.daemon.max_in_flight, sum(limits.values()))
    per_platform_posts = shape.embassies * shape.posts
    rounds = max(math.ceil(per_platform_posts / limits[name]) for name in shape.platforms)
    overall_rounds = math.ceil(shape.deliveries / concurrency)
    return concurrency, max(rounds, overall_rounds, shape.posts) * latency


if __name__ == "__main__":
    main()
