"""Markdown rendering on pathological input stays linear.

    .venv/bin/python bench/markdown.py [--size 8192] [--repeat 3]

For each case, ``render_markdown`` (the whole pipeline: clean_source, Python-Markdown
with the kramdown dialect, captions, nh3) runs on the case at SIZE and at 2 x SIZE
characters. Printed per case: the best time at SIZE, its ratio to a plain paragraph
of the same size rendered in the same run (the baseline), and the growth when the
input doubles: about 2 for linear work, about 4 for quadratic. The 60 KB line and
the archive-sized cases are fixed in size. Absolute times on a shared machine move
around; the ratios are what to read.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

# This file's folder comes first on sys.path and its name would hide the markdown
# package: put the repository there instead.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from app.rendering.markdown import render_markdown  # noqa: E402

BASE = "https://example.com"


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


CASES: dict[str, Callable[[int], str]] = {
    "plain paragraph (baseline)": _repeat("word "),
    "[ run": _repeat("["),
    "![ run": _repeat("!["),
    "[a]( run": _repeat("[a]("),
    "[ then ] run": lambda size: "[" * (size // 2) + "]" * (size // 2),
    "< run": _repeat("<"),
    "*a run": _repeat("*a"),
    "quotes and dashes": _repeat("\"it's\" -- 'so'... "),
    "links": _repeat("[a](https://x.example/) "),
    "nested bullets": _repeat("* "),
    "nested + and *": _repeat("* + "),
    "list under each line": _repeat("para\n* item\n"),
    "indent stairs": lambda size: "\n".join(" " * (i % 40) + "* a" for i in range(size // 22)),
    "quote markers": _repeat("> "),
}


def _best(text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        render_markdown(text, BASE)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = args.size
    render_markdown("warm up", BASE)
    baseline = _best(CASES["plain paragraph (baseline)"](size), args.repeat)
    baseline_double = _best(CASES["plain paragraph (baseline)"](2 * size), args.repeat)
    print(f"{'case':28s} {'chars':>7s} {'ms':>8s} {'x plain':>8s} {'x2 size':>8s}")
    for name, make in CASES.items():
        small, large = _best(make(size), args.repeat), _best(make(2 * size), args.repeat)
        print(f"{name:28s} {size:7d} {small * 1000:8.1f} {small / baseline:8.2f} {large / small:8.2f}")
    line = "a" * 61440
    long_line = _best(line, args.repeat)
    plain_line = _best(CASES["plain paragraph (baseline)"](61440), args.repeat)
    print(f"{'60 KB line':28s} {61440:7d} {long_line * 1000:8.1f} {long_line / plain_line:8.2f} {'':>8s}")
    print(f"baseline doubling: {baseline_double / baseline:.2f}")


if __name__ == "__main__":
    main()
