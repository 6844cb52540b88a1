"""`python -m bench` runs every benchmark into one summary (bench/summary.py; `--quick`, `--only`);
`python -m bench NAME [ARGS]` runs `bench.bench_NAME.main()`; `python -m bench --list` lists them."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench

PREFIX = "bench_"


def available() -> dict[str, str]:
    """Benchmark name -> the first line of its module docstring."""
    found = {}
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda i: i.name):
        if info.name.startswith(PREFIX):
            module = importlib.import_module(f"bench.{info.name}")
            doc = (module.__doc__ or "").strip().splitlines()
            found[info.name[len(PREFIX):]] = doc[0] if doc else ""
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or (args[0].startswith("--") and args[0] not in ("--help", "--list")):
        from bench import summary

        return summary.main(args)
    benchmarks = available()
    if args[0] in ("-h", "--help", "--list"):
        print("usage: python -m bench [--quick] [--only A,B]   (every benchmark, one summary)\n"
              "       python -m bench NAME [ARGS]   (NAME --help for its options)\n")
        for name, summary in benchmarks.items():
            print(f"  {name:<12} {summary}")
        return 0
    name, rest = args[0], args[1:]
    if name not in benchmarks:
        print(f"bench: no benchmark {name!r}; one of {', '.join(benchmarks)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{PREFIX}{name}")
    # Each benchmark parses sys.argv itself, as a script would.
    sys.argv = [f"python -m bench {name}", *rest]
    module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
