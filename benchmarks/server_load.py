"""Load on the labeling server: concurrent clients while the CLI teaches (issue 19).

Starts ``autoal campaign serve`` on a digits campaign (1,797 items, a CSV; loopback, a free
port), runs CLIENTS threads of REQUESTS requests each (labels of each client's own items,
status, batch, undo, next-batch queries, bad labels) while ``autoal campaign teach`` commits
files at the same time, then checks the database (every accepted label logged exactly once,
nothing rejected written, integrity_check ok) and that the server still answers. Prints one
JSON object: requests/s, p50/p99 latency (ms), answers by kind and status, problems found.

    .venv/bin/python benchmarks/server_load.py [--clients 8] [--requests 500]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import urllib.request
from pathlib import Path

from autoal.campaign import Campaign
from autoal.campaign.loadcheck import drive, start_server, summarize, teach_files, verify
from autoal.campaign.store import DB_NAME


def digits_campaign(root: Path) -> tuple[Path, list[str]]:
    """A margin/MLP campaign on scikit-learn's digits as a CSV (ids d0..d1796)."""
    import csv

    from sklearn.datasets import load_digits

    d = load_digits()
    path = root / "digits.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *(f"p{j}" for j in range(64))])
        w.writerows([f"d{i}", *map(int, x)] for i, x in enumerate(d.data))
    camp = root / "camp"
    Campaign.init(camp, path, [str(k) for k in range(10)], strategy="margin", model="mlp",
                  epochs=2, min_steps=0).close()
    return camp, [f"d{i}" for i in range(len(d.data))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=500, help="per client")
    ap.add_argument("--teaches", type=int, default=5, help="CLI teach files of 20 labels")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        camp, ids = digits_campaign(root)
        cli_ids, web_ids = ids[: 20 * args.teaches], ids[20 * args.teaches:]
        batches = [{i: str(k % 10) for k, i in enumerate(cli_ids[20 * b: 20 * (b + 1)])}
                   for b in range(args.teaches)]
        proc, url = start_server(camp)
        try:
            cli: list = []
            teacher = threading.Thread(target=lambda: cli.extend(teach_files(camp, batches,
                                                                             root)))
            teacher.start()
            outcomes, seconds = drive(url, web_ids, [str(k) for k in range(10)],
                                      clients=args.clients, requests_per_client=args.requests,
                                      seed=args.seed)
            teacher.join()
            try:
                with urllib.request.urlopen(url + "api/status", timeout=30) as resp:
                    alive = resp.status == 200
            except OSError:
                alive = False
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        report = summarize(outcomes, seconds)
        report["clients"], report["requests_per_client"] = args.clients, args.requests
        report["cli_teaches"] = {"run": len(cli), "succeeded": sum(ok for *_, ok in cli)}
        report["server_answers_after"] = alive
        report["problems"] = verify(camp / DB_NAME, outcomes, cli)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
