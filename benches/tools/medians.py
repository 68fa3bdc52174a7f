#!/usr/bin/env python3
"""Prints criterion's median estimates for a group as a table with ratios.

Usage: benches/tools/medians.py GROUP [BASELINE_SUBSTRING]
Reads target/criterion/<GROUP>/<function>[/<param>]/new/estimates.json; the ratio
column divides every median by the baseline's median for the same parameter.
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parents[2] / "target" / "criterion"
group = sys.argv[1]
baseline = sys.argv[2] if len(sys.argv) > 2 else "floor"

rows = {}
for estimates in (root / group).glob("**/new/estimates.json"):
    bench = json.loads((estimates.parent / "benchmark.json").read_text())
    median = json.loads(estimates.read_text())["median"]["point_estimate"]
    rows.setdefault(bench.get("value_str") or "-", []).append((bench["function_id"], median))

for param in sorted(rows, key=lambda p: int(p) if p.isdigit() else p):
    entries = sorted(rows[param], key=lambda r: r[1])
    base = next((m for f, m in entries if f.startswith(baseline)), None)
    base = base or next((m for f, m in entries if baseline in f), None)
    print(f"\n{group} / {param}")
    print(f"| contender | median | ratio to {baseline} |")
    print("|---|---:|---:|")
    for function, median in entries:
        ratio = f"{median / base:.2f}" if base else "-"
        unit = f"{median:.1f} ns" if median < 10_000 else f"{median / 1000:.1f} µs"
        print(f"| {function} | {unit} | {ratio} |")
