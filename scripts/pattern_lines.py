#!/usr/bin/env python3
"""Counts the user code of each pattern example, the way README's table does.

For each pattern file in examples/src, the file is formatted with rustfmt
(as `cargo fmt` leaves it), and its lines are counted except:
  - blank lines and comment lines (`//`, `///`, `//!`, and `/* .. */`);
  - `use` declarations (imports);
  - the `worker` fn, which registers the pattern's workflows and activities
    on a worker (the Python reference shows no worker set-up);
  - a `#[cfg(test)]` module.
What remains is the pattern: its types, activities, workflow and client
calls. The tour, the tests and `support.rs` are not counted.

Usage: python3 scripts/pattern_lines.py [--rev GIT_REV] [--markdown]
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (pattern, file, Python reference, Temporal Rust SDK 1.1.1, goal)
PATTERNS = [
    ("activity choice", "activity_choice.rs", 35, 93, 45),
    ("parallel activity", "parallel_activity.rs", 25, 47, 33),
    ("exceptions", "exceptions.rs", 36, 86, 47),
    ("long-running entity", "long_running_entity.rs", 87, 199, 113),
    ("concurrent timers", "concurrent_timers.rs", 54, 84, 70),
    ("cancellation", "cancellation.rs", 28, 70, 36),
]


def source(file: str, rev: str | None) -> str:
    path = f"examples/src/{file}"
    if rev is None:
        return (ROOT / path).read_text()
    return subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout


def formatted(text: str) -> str:
    result = subprocess.run(
        ["rustfmt", "--edition", "2024", "--emit", "stdout", "--quiet"],
        input=text, capture_output=True, text=True,
    )
    if result.returncode != 0:
        sys.exit(f"rustfmt failed: {result.stderr}")
    return result.stdout


def skip_item(lines: list[str], start: int) -> int:
    """The index after the item starting at `start` (braces balanced)."""
    depth = 0
    opened = False
    for i in range(start, len(lines)):
        code = re.sub(r'"(\\.|[^"\\])*"', '""', lines[i].split("//")[0])
        depth += code.count("{") - code.count("}")
        opened = opened or "{" in code
        if opened and depth == 0:
            return i + 1
        if not opened and code.rstrip().endswith(";"):
            return i + 1
    return len(lines)


def count(text: str) -> int:
    lines = formatted(text).splitlines()
    n, i, in_block = 0, 0, False
    while i < len(lines):
        s = lines[i].strip()
        if in_block:
            in_block = "*/" not in s
            i += 1
            continue
        if s.startswith("/*"):
            in_block = "*/" not in s
            i += 1
            continue
        if not s or s.startswith("//"):
            i += 1
            continue
        if re.match(r"(pub(\(\w+\))? )?use ", s):
            i = skip_item(lines, i)
            continue
        if s == "#[cfg(test)]" or re.match(r"(pub )?fn worker\(", s):
            i = skip_item(lines, i + (1 if s == "#[cfg(test)]" else 0))
            continue
        n += 1
        i += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="count the files as they are at this git revision")
    parser.add_argument("--markdown", action="store_true", help="print README's table")
    args = parser.parse_args()
    rows = [(name, count(source(file, args.rev)), py, rs, goal)
            for name, file, py, rs, goal in PATTERNS]
    if args.markdown:
        print("| pattern | Python | Temporal Rust SDK | weft | goal |")
        print("|---|---:|---:|---:|---:|")
        for name, n, py, rs, goal in rows:
            print(f"| {name} | {py} | {rs} | {n} | <= {goal} |")
    else:
        for name, n, py, rs, goal in rows:
            mark = "" if n <= goal else "  (over the goal)"
            print(f"{name:<20} {n:>4}   goal <= {goal}{mark}")


if __name__ == "__main__":
    main()
