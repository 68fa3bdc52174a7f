#!/usr/bin/env python3
"""Runs built criterion bench binaries in interleaved rounds and prints median ratios.

Usage: benches/tools/interleave.py [--control SUBSTRING] ROUNDS FILTER NAME=BINARY ...

Each round runs every binary once, in order, with criterion's `--bench FILTER`; the
machine's noise then falls on every side alike. For each benchmark the table gives the
median over rounds of criterion's point estimate, and its ratio to the first side's.
With `--control`, a second table divides each estimate by the estimate, in the same
run, of the benchmark whose name contains SUBSTRING (a peer whose code no side
changes), and gives the ratio of those medians: drift between runs cancels out.
Build the binaries first, for example with
`cargo bench -p jwm-cache-benches --bench memoize --no-run`, one worktree or feature
set per side, and copy each out of `target/`.
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

UNITS = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
TIME = re.compile(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]")


def run(binary, bench_filter, home):
    """criterion's point estimate, in ns, for each benchmark `binary` runs."""
    env = dict(os.environ, CRITERION_HOME=home)
    out = subprocess.run(
        [binary, "--bench", bench_filter],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    results, name = {}, None
    for line in out.splitlines():
        found = TIME.search(line)
        if found:
            value, unit = found.groups()
            # The name is on the same line, or alone on the line before.
            head = line[: found.start()].strip() or name
            results[head] = float(value) * UNITS[unit]
        elif line.strip() and not line.startswith(" "):
            name = line.strip()
    return results


def main():
    args = sys.argv[1:]
    control = None
    if args[0] == "--control":
        control, args = args[1], args[2:]
    rounds, bench_filter = int(args[0]), args[1]
    sides = [arg.split("=", 1) for arg in args[2:]]
    samples, relative = {}, {}
    with tempfile.TemporaryDirectory() as home:
        for round_ in range(rounds):
            for side, binary in sides:
                results = run(binary, bench_filter, f"{home}/{side}")
                base = next((ns for b, ns in results.items() if control and control in b), None)
                for bench, ns in results.items():
                    samples.setdefault(bench, {}).setdefault(side, []).append(ns)
                    if base:
                        relative.setdefault(bench, {}).setdefault(side, []).append(ns / base)
            print(f"round {round_ + 1} of {rounds} done", file=sys.stderr)
    names = [side for side, _ in sides]
    table(names, samples, "ns")
    if relative:
        print(f"\nEach run divided by `{control}` in the same run:")
        table(names, relative, "×")


def table(names, samples, unit):
    print("| benchmark | " + " | ".join(f"{n} (median)" for n in names)
          + " | " + " | ".join(f"{n} ÷ {names[0]}" for n in names[1:]) + " |")
    print("|---" * (1 + 2 * len(names) - 1) + "|")
    for bench, by_side in samples.items():
        medians = [statistics.median(by_side.get(n, [float("nan")])) for n in names]
        cells = [f"{m:.1f} ns" if unit == "ns" else f"{m:.3f}" for m in medians]
        ratios = [f"{m / medians[0]:.3f}" for m in medians[1:]]
        print(f"| {bench} | " + " | ".join(cells + ratios) + " |")


if __name__ == "__main__":
    main()
