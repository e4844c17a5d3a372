"""``python -m benchmarks [name] [options]``: run one benchmark; ``broadcast`` by default.

A name is a module of this package with a ``main(argv) -> int``; ``python -m benchmarks list``
shows them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

DEFAULT = "broadcast"
_HELPERS = frozenset({"sandbox_process", "seed"})


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(here)])
        if not m.name.startswith("_") and m.name not in _HELPERS
    )


def main(argv: list[str]) -> int:
    name = DEFAULT
    if argv and not argv[0].startswith("-"):
        name, argv = argv[0].replace("-", "_"), argv[1:]
    if name == "list":
        print("\n".join(available()))
        return 0
    if name not in available():
        print(f"no benchmark {name!r}; there are: {', '.join(available())}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"benchmarks.{name}")
    result: int = module.main(argv)
    return result


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
