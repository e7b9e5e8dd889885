"""Credentials for every account of a large network, read from one secrets file.

A daemon asks for each account's credentials in turn (issue 12's profile of a burst: 34.5 % of
the daemon's time re-parsed the whole file for every account). Prints the time to load N
accounts' credentials from a file of N tables, written long before it is read, for each N.

    python bench/secrets_load.py [N ...]      (default: 200 2001)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.secrets import load_credentials, write_private  # noqa: E402


def seconds_to_load(accounts: int, folder: Path) -> float:
    path = folder / f"secrets-{accounts}.toml"
    tables = (
        f'[acct-{i}]\naccess_token = "tok-{i:08d}-abcdefghijklmnop"\n\n' for i in range(accounts)
    )
    write_private(path, "".join(tables))
    written = path.stat().st_mtime_ns - 60 * 10**9  # as if written a minute ago
    os.utime(path, ns=(written, written))
    start = time.perf_counter()
    for i in range(accounts):
        load_credentials(f"acct-{i}", ["access_token"], file=path, environ={})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[200, 2001], help="accounts")
    sizes = parser.parse_args().sizes
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}")
    print("| accounts | seconds to load them all | ms per account |")
    print("|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for accounts in sizes:
            took = seconds_to_load(accounts, Path(folder))
            print(f"| {accounts:,} | {took:.3f} | {1000 * took / accounts:.3f} |")


if __name__ == "__main__":
    main()
