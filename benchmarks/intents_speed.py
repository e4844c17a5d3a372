"""How fast the resident-question classifier is (the figures that used to be test thresholds).

    .venv/bin/python -m benchmarks intents_speed            # best of 5
    .venv/bin/python -m benchmarks intents_speed --repeat 3

Times, over the labelled set ``tests/data/resident_questions.csv``: every question classified
with a warm token cache (as a running bot has it), the same with the cache cleared before each
pass, and two hostile inputs (200,000 random code points; "kapan nyoblos" x 20,000). Printed
beside a baseline measured in the same run: ``normalize()`` alone on the same questions, the
part of the work no lexicon can avoid. Targets from the old tests: median question under 1 ms,
both hostile inputs together under 250 ms.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain import intents

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "resident_questions.csv"


def _best(fn: Callable[[], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="intents_speed")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with DATA.open(encoding="utf-8", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    rnd = random.Random(7)
    huge = "".join(chr(rnd.randrange(0x20, 0x3000)) for _ in range(200_000))
    repeated = "kapan nyoblos " * 20_000

    def normalise_all() -> None:
        for t in texts:
            intents.normalize(t)

    def classify_all() -> None:
        for t in texts:
            intents.classify(t)

    def classify_cold() -> None:
        intents._canonical.cache_clear()
        classify_all()

    def hostile() -> None:
        intents.classify(huge)
        intents.classify(repeated)

    classify_all()  # warm
    per_question = []
    for t in texts:
        start = time.perf_counter()
        intents.classify(t)
        per_question.append(time.perf_counter() - start)
    baseline = _best(normalise_all, args.repeat)
    warm = _best(classify_all, args.repeat)
    cold = _best(classify_cold, args.repeat)
    bad = _best(hostile, args.repeat)
    n = len(texts)
    print(f"{n} questions, best of {args.repeat}")
    print(
        f"  baseline normalize() only : {baseline * 1e3:8.2f} ms  ({baseline / n * 1e6:6.1f} µs/q)"
    )
    print(f"  classify, warm cache      : {warm * 1e3:8.2f} ms  ({warm / n * 1e6:6.1f} µs/q)")
    print(f"  classify, cold cache      : {cold * 1e3:8.2f} ms  ({cold / n * 1e6:6.1f} µs/q)")
    print(f"  median question (warm)    : {statistics.median(per_question) * 1e6:8.1f} µs")
    print(f"  two hostile inputs        : {bad * 1e3:8.2f} ms  (target < 250 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
