"""LibreOffice headless as the spreadsheet program that reads the xlsx exports back: each sheet of
each workbook to a CSV of its cells as shown (the Makefile installs libreoffice-calc-nogui where
`soffice` is missing; under CI=1 a missing program fails the test, it is never skipped)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest

# separator 44 (,), text delimiter 34 ("), UTF-8 (76), from line 1, ..., save cells as shown,
# every sheet to its own file (-1).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


def soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("soffice is missing; `make test` installs libreoffice-calc-nogui")
        pytest.skip("soffice is missing (make test installs libreoffice-calc-nogui)")
    return found


def sheets_as_csv(workbooks: list[Path], into: Path) -> dict[tuple[str, str], list[list[str]]]:
    """{(workbook stem, sheet name): rows} as LibreOffice reads and shows them."""
    into.mkdir(parents=True, exist_ok=True)
    profile = into / "profile"
    subprocess.run(
        [soffice(), "--headless", f"-env:UserInstallation={profile.as_uri()}",
         "--convert-to", CSV_FILTER, "--outdir", str(into), *map(str, workbooks)],
        check=True, capture_output=True, timeout=240,
    )
    found: dict[tuple[str, str], list[list[str]]] = {}
    for book in workbooks:
        for path in into.glob(f"{book.stem}-*.csv"):
            with path.open(encoding="utf-8", newline="") as handle:
                found[(book.stem, path.stem[len(book.stem) + 1:])] = list(csv.reader(handle))
    return found
