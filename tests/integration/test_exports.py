"""Reports and slips as files (DESIGN "Lists and formats"): CSV by `Accept` or `?format=`, one table
per file or a zip of tables, ids in every row; xlsx read back by LibreOffice, every figure equal to
the JSON report, money shown with two decimals."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from services.exports import XLSX, tables_for
from services.exports.columns import kind, title
from tests.integration.http_fixtures import Http, fulfil, http, onboard, place, publish_prices
from tests.support.libreoffice import sheets_as_csv

__all__ = ["http"]


@pytest.fixture
def january(http: Http) -> dict[str, Any]:
    """Two tier-A dealers in the east, 10,500.00 and 700.00 delivered; January closed (R2, R5)."""
    publish_prices(http)
    big, small = onboard(http, name="Big"), onboard(http, name="Small", salesperson="bob")
    http.ok("POST", f"/dealers/{big}/repair-centre", 201, role="manager",
            json={"signed_on": "2026-01-06"})
    fulfil(http, place(http, big, "b1", lines=[{"sku": "ROUTER", "qty": 15}]), "2026-01-20")
    fulfil(http, place(http, small, "s1"), "2026-01-21")
    http.ok("POST", "/periods/2026-01/close", role="finance", json={"closed_on": "2026-02-01"})
    slip = http.ok("GET", "/rebate-slips", role="finance", query={"period": "2026-01"})["slips"][0]
    return {"big": big, "small": small, "slip": slip["slip_id"]}


def reports_of(j: dict[str, Any]) -> list[tuple[str, str, str, dict[str, str]]]:
    """(name, report, path, query) of every report and slip answer."""
    return [
        ("rebates", "rebates", "/reports/rebates", {"period": "2026-01"}),
        ("explanation", "explanation", f"/reports/rebates/{j['big']}/2026-01/explanation", {}),
        ("budgets", "spare-budgets", "/reports/spare-budgets", {"month": "2026-01"}),
        ("dealers", "dealers", "/reports/dealers", {"period": "2026-Q1"}),
        ("salespeople", "salespeople", "/reports/salespeople", {"period": "2026-01"}),
        ("statistics", "statistics", "/reports/statistics", {"period": "2026-01"}),
        ("slips", "slips", "/rebate-slips", {"period": "2026-01"}),
        ("slip", "slips", f"/rebate-slips/{j['slip']}", {}),
        ("accruals", "accruals", "/reports/accruals", {"month": "2026-01"}),
    ]


ROLE = {"salespeople": "manager", "dealers": "manager"}


def expected(key: str, value: Any) -> str | None:
    """How the JSON value reads in a cell; None where the comparison is numeric."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return None if kind(key) in ("money", "number", "int") else str(value)


def test_every_xlsx_read_back_by_libreoffice_equals_the_json_report(
    http: Http, january: dict[str, Any], tmp_path: Path
) -> None:
    answers: dict[str, Any] = {}
    books = []
    for name, report, path, query in reports_of(january):
        role = ROLE.get(report, "finance")
        answers[name] = (report, http.ok("GET", path, role=role, query=query))
        got = http.call("GET", path, role=role, query=query, headers={"Accept": XLSX})
        assert got.status_code == 200 and got.mimetype == XLSX, (name, got.status_code)
        books.append(tmp_path / f"{name}.xlsx")
        books[-1].write_bytes(got.data)
    shown = sheets_as_csv(books, tmp_path / "csv")
    compared = 0
    for name, (report, answer) in answers.items():
        for table in tables_for(report, answer):
            rows = shown[(name, table.sheet)]
            assert rows[0] == [title(c) for c in table.columns], (name, table.sheet)
            assert len(rows) == len(table.rows) + 1, (name, table.sheet)
            for row, cells in zip(table.rows, rows[1:], strict=True):
                for key, cell in zip(table.columns, cells, strict=True):
                    value, text = row.get(key), expected(key, row.get(key))
                    if text is not None:
                        assert cell == text, (name, key, cell, value)
                        continue
                    assert Decimal(cell) == Decimal(str(value)), (name, key, cell, value)
                    if kind(key) == "money":
                        assert cell.split(".")[1:] and len(cell.split(".")[1]) == 2, (name, key, cell)
                    compared += 1
    assert compared > 40  # the figures of eight answers, not empty sheets
    assert any(r[1] == january["big"] for r in shown[("dealers", "经销商排名 Dealer ranking")][1:])


def test_csv_by_accept_or_format_one_table_per_file_with_ids(
    http: Http, january: dict[str, Any]
) -> None:
    got = http.call("GET", "/reports/dealers", role="manager", query={"period": "2026-01"},
                    headers={"Accept": "text/csv"})
    assert got.status_code == 200 and got.mimetype == "text/csv"
    ranking = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    assert ranking[0][:3] == ["排名 / Rank", "经销商编号 / Dealer id", "名称 / Name"]
    assert {r[1]: r[7] for r in ranking[1:]} == {january["big"]: "10500.00", january["small"]: "700.00"}
    stats = http.call("GET", "/reports/statistics", role="finance", query={"period": "2026-01"},
                      headers={"Accept": "text/csv"})
    assert stats.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(stats.data)) as archive:
        names = sorted(archive.namelist())
        regions = list(csv.reader(io.StringIO(archive.read("stat-regions.csv").decode("utf-8-sig"))))
    assert names == ["stat-dealers.csv", "stat-regions.csv", "stat-salespeople.csv"]
    assert [(r[0], r[3]) for r in regions[1:]] == [("east", "11200.00"), ("total", "11200.00")]
    one = http.call("GET", "/reports/rebates", role="finance",
                    query={"period": "2026-01", "format": "csv"})
    assert one.mimetype == "text/csv" and "attachment" in one.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(one.data.decode("utf-8-sig"))))
    assert [(r[0], r[9]) for r in rows[1:] if r[9] != "0.00"] == [(january["big"], "210.00")]
    plain = http.ok("GET", "/reports/rebates", role="finance", query={"period": "2026-01"})
    assert "entries" in plain
    http.refused(422, "GET", "/reports/rebates", role="finance",
                 query={"period": "2026-01", "format": "pdf"}, field="format")


def test_the_cli_writes_xlsx_and_csv_files_and_names_a_missing_output(
    http: Http, january: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook

    from services.cli import main

    database = ["--database", f"sqlite:///{tmp_path / 'channel.db'}", "--period", "2026-01"]
    book = tmp_path / "stats.xlsx"
    assert main(["report", "statistics", "--format", "xlsx", "--output", str(book), *database]) == 0
    sheets = load_workbook(book)
    dealers = sheets["经销商 By dealer"]
    assert dealers.freeze_panes == "A2" and dealers["F1"].value == "净销售额 / Net sales"
    figures = {row[0].value: row[5] for row in dealers.iter_rows(min_row=2)}
    assert figures[january["big"]].value == 10500 and figures[january["big"]].number_format == "0.00"
    assert main(["report", "dealers", "--format", "csv", *database]) == 1
    assert "--output" in capsys.readouterr().err
    assert main(["report", "rebates", "--format", "csv", *database]) == 0
    assert january["big"] in capsys.readouterr().out


def test_lists_come_in_pages_with_the_x_pagination_header(
    http: Http, january: dict[str, Any]
) -> None:
    import json

    for ref in ("p1", "p2", "p3"):
        place(http, january["small"], ref)
    first = http.call("GET", "/orders", role="finance", query={"page_size": 2})
    assert [o["client_ref"] for o in first.get_json()["orders"]] == ["b1", "s1"]
    header = json.loads(first.headers["X-Pagination"])
    assert header == {"total": 5, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 1,
                      "next_page": 2}
    last = http.call("GET", "/orders", role="finance", query={"page_size": 2, "page": 3})
    assert [o["client_ref"] for o in last.get_json()["orders"]] == ["p3"]
    def total(path: str, role: str) -> int:
        found: int = json.loads(http.call("GET", path, role=role).headers["X-Pagination"])["total"]
        return found

    assert total("/dealers", "auditor") == 2 and total("/rebate-slips", "finance") == 2
    assert total("/api-keys", "admin") == len(http.keys)
    http.refused(422, "GET", "/orders", role="finance", query={"page_size": 1001}, field="page_size")
    spec = http.ok("GET", "/openapi.json")
    params = {p["name"] for p in spec["paths"]["/orders"]["get"]["parameters"]}
    assert {"page", "page_size"} <= params
    assert "X-Pagination" in spec["paths"]["/orders"]["get"]["responses"]["200"]["headers"]


def test_the_accrual_journal_of_a_closed_and_an_open_month(
    http: Http, january: dict[str, Any]
) -> None:
    """January (closed 2026-02-01): Big's 210.00 (10,500.00 × 2 %, R2) accrued on 01-31, reversed
    and posted payable on the slip at the close; the east pool's 112.00 (11,200.00 × 1 %, S2).
    February (open): Big delivers 15 routers again, 210.00 accrued and not posted."""
    big = january["big"]
    journal = http.ok("GET", "/reports/accruals", role="finance", query={"month": "2026-01"})
    lines = [(x["date"], x["account"], x["debit"], x["credit"], x["dealer_id"], x["reference"][:8])
             for x in journal["lines"]]
    assert lines == [
        ("2026-01-31", "6601.01", "210.00", "0.00", big, "accrual "),
        ("2026-01-31", "2241.01", "0.00", "210.00", big, "accrual "),
        ("2026-02-01", "2241.01", "210.00", "0.00", big, "reversal"),
        ("2026-02-01", "6601.01", "0.00", "210.00", big, "reversal"),
        ("2026-02-01", "6601.01", "210.00", "0.00", big, "slip " + january["slip"][:3]),
        ("2026-02-01", "2202.01", "0.00", "210.00", big, "slip " + january["slip"][:3]),
        ("2026-01-31", "6601.02", "112.00", "0.00", big, "spare-pa"),
        ("2026-01-31", "2241.02", "0.00", "112.00", big, "spare-pa"),
    ]
    assert journal["totals"] == {"debit": "742.00", "credit": "742.00"}  # 3 × 210.00 + 112.00
    assert {b["account"]: b["balance"] for b in journal["balances"]}["2241.01"] == "0.00"
    fulfil(http, place(http, big, "b2", lines=[{"sku": "ROUTER", "qty": 15}], on="2026-02-10"),
           "2026-02-20")
    february = http.ok("GET", "/reports/accruals", role="finance", query={"month": "2026-02"})
    assert february["closed_on"] is None
    rebate = [(x["account"], x["debit"], x["credit"]) for x in february["lines"]
              if x["reference"].startswith("accrual")]
    assert rebate == [("6601.01", "210.00", "0.00"), ("2241.01", "0.00", "210.00")]
    assert february["totals"]["debit"] == february["totals"]["credit"]
    http.refused(403, "GET", "/reports/accruals", role="sales", query={"month": "2026-01"})
