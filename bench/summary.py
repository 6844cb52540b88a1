"""`make bench`: every benchmark at its default size, one table (figure, value, baseline, ratio,
goal) printed and written as JSON to var/bench/summary.json. Each benchmark module that has
`figures(quick: bool = False) -> list[dict]` is run (imported only then); a module that is absent,
has no `figures`, or fails is named in the report and the others still run."""

from __future__ import annotations

import argparse
import importlib
import json
import operator
import sys
import time
import traceback
from pathlib import Path
from typing import Any

# In the order they run; each gives the figures named beside it.
MODULES = {
    "http": ("http_orders", "http_statements_per_order", "http_p99_ms"),
    "projections": ("projection_live", "projection_catch_up"),
    "replay": ("replay",),
    "kafka": ("relay", "consumer"),
    "growth": ("credit_cycle_growth", "price_list_growth", "log_growth"),
    "close": ("close_per_1000_orders_growth",),
    "console": ("console_page_p95_ms",),
    "import": ("import_orders",),
}
KEYS = ("figure", "value", "unit", "baseline", "ratio", "goal")
OUTPUT = Path("var/bench/summary.json")
COMPARE = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


def met(row: dict[str, Any]) -> bool | None:
    """Whether the row meets its goal: its ratio (">= 0.6") or, for a goal on the figure itself,
    its value ("value <= 300"); None when the goal is of neither form."""
    parts = str(row.get("goal", "")).split()
    key = "ratio"
    if len(parts) == 3 and parts[0] == "value":
        key, parts = "value", parts[1:]
    if len(parts) != 2 or parts[0] not in COMPARE:
        return None
    try:
        return bool(COMPARE[parts[0]](float(row[key]), float(parts[1])))
    except (TypeError, ValueError):
        return None


def run(modules: list[str], quick: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of every module that gave some, and a line for each that did not."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for name in modules:
        began = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.bench_{name}")
        except ModuleNotFoundError as error:
            if error.name != f"bench.bench_{name}":
                raise
            problems.append(f"bench_{name}: absent ({', '.join(MODULES.get(name, ()))} not measured)")
            continue
        figures = getattr(module, "figures", None)
        if figures is None:
            problems.append(f"bench_{name}: has no figures()")
            continue
        print(f"-- bench_{name} ...", file=sys.stderr, flush=True)
        try:
            found = list(figures(quick=quick))
        except Exception:
            problems.append(f"bench_{name}: failed:\n{traceback.format_exc()}")
            continue
        for row in found:
            missing = [k for k in KEYS if k not in row]
            if missing:
                problems.append(f"bench_{name}: a row without {', '.join(missing)}: {row}")
            else:
                rows.append({k: row[k] for k in KEYS})
        print(f"-- bench_{name}: {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    return rows, problems


def table(rows: list[dict[str, Any]]) -> str:
    lines = [f"| {' | '.join(KEYS)} | met |", "|---|---:|---|---:|---:|---|---|"]
    for row in rows:
        ok = met(row)
        lines.append(
            f"| {row['figure']} | {row['value']:,.2f} | {row['unit']} | {row['baseline']:,.2f} | "
            f"{row['ratio']:.3f} | {row['goal']} | {'' if ok is None else ('yes' if ok else 'no')} |"
        )
    return "\n".join(lines)


def modules_named(names: str) -> list[str]:
    """The modules `--only` names, each by its own name or by a figure it gives ("import_orders"
    runs bench_import); an unknown name is kept, to be reported absent."""
    by_figure = {fig: module for module, figs in MODULES.items() for fig in figs}
    return list(dict.fromkeys(by_figure.get(n, n) for n in names.split(",") if n))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--only", help="comma-separated modules or figures (default: all)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    modules = modules_named(args.only) if args.only else list(MODULES)
    began = time.perf_counter()
    rows, problems = run(modules, args.quick)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=2) + "\n")
    print(table(rows))
    for line in problems:
        print(f"not measured: {line}")
    print(f"\n{len(rows)} figures in {time.perf_counter() - began:.0f} s; written to {args.output}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
