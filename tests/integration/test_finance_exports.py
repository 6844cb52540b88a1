"""The seed's tables as finance prints them (返点确认单, 销售业绩统计表, 业务人员销售业绩统计表,
授权营销商的季度返点表) as xlsx over HTTP, read back by LibreOffice: every cell equal to the table
of the JSON answer, and every figure equal to the report it comes from — the slips (R5, R6), the
K5 statistics, the K2/K4 ranking, the rebate ledger (R3) and the policy's brackets (R4)."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from services.cli import main
from services.exports import XLSX, tables_for
from services.exports.columns import kind, title
from tests.integration.http_fixtures import Http, fulfil, http, onboard, place, publish_prices
from tests.integration.test_exports import expected
from tests.support.libreoffice import sheets_as_csv

__all__ = ["http"]
Q = "2026-Q1"
PRINTED = {
    "confirmations": "/reports/rebate-confirmations",
    "sales-performance": "/reports/sales-performance",
    "salesperson-performance": "/reports/salesperson-performance",
    "quarterly-rebates": "/reports/quarterly-rebates",
}


@pytest.fixture
def quarter(http: Http) -> dict[str, str]:
    """Q1 2026, its three months closed: Big (A) 10,500.00 in January and 1,050,000.00 in March
    (the quarter's first A bracket, R3), Small (A) 700.00 in January, North (AA) 312,000.00 in
    February (the first AA bracket). Big confirms its March slip; Small disputes its January slip,
    accepted with 14.00 booked in February; North disputes its quarterly line, rejected (R6)."""
    publish_prices(http)
    big, small = onboard(http, name="Big"), onboard(http, name="Small", salesperson="bob")
    north = onboard(http, tier="AA", name="North", region="north", salesperson="carol")
    fulfil(http, place(http, big, "b1", lines=[{"sku": "ROUTER", "qty": 15}]), "2026-01-20")
    fulfil(http, place(http, small, "s1"), "2026-01-21")
    http.ok("POST", "/periods/2026-01/close", role="finance", json={"closed_on": "2026-02-01"})
    fulfil(http, place(http, north, "n1", on="2026-02-03", region="north",
                       lines=[{"sku": "ROUTER", "qty": 400}]), "2026-02-10")
    slip = slip_of(http, small, "2026-01")
    http.ok("POST", f"/rebate-slips/{slip}/disputes", key=http.dealer_key(small),
            json={"lines": [{"line": 1, "reason": "we reached the amount"}],
                  "disputed_on": "2026-02-03"})
    http.ok("POST", f"/rebate-slips/{slip}/resolutions", role="finance",
            json={"dispute": 1, "accept": True, "amount": "14.00", "note": "goodwill",
                  "resolved_on": "2026-02-04"})
    http.ok("POST", "/periods/2026-02/close", role="finance", json={"closed_on": "2026-03-01"})
    fulfil(http, place(http, big, "b2", on="2026-03-02", lines=[{"sku": "ROUTER", "qty": 1500}]),
           "2026-03-10")
    http.ok("POST", "/periods/2026-03/close", role="finance", json={"closed_on": "2026-04-01"})
    http.ok("POST", f"/rebate-slips/{slip_of(http, big, '2026-03')}/confirmation",
            key=http.dealer_key(big), json={"confirmed_on": "2026-04-02"})
    slip = slip_of(http, north, "2026-03")
    http.ok("POST", f"/rebate-slips/{slip}/disputes", key=http.dealer_key(north),
            json={"lines": [{"line": 2, "reason": "bracket"}], "disputed_on": "2026-04-03"})
    http.ok("POST", f"/rebate-slips/{slip}/resolutions", role="finance",
            json={"dispute": 1, "accept": False, "note": "as posted", "resolved_on": "2026-04-04"})
    return {"big": big, "small": small, "north": north}


def slip_of(http: Http, dealer_id: str, month: str) -> str:
    slips = http.ok("GET", "/rebate-slips", role="finance",
                    query={"dealer_id": dealer_id, "period": month})["slips"]
    found: str = slips[0]["slip_id"]
    return found


def by_key(rows: list[list[str]], columns: list[str]) -> list[dict[str, str]]:
    """A sheet's rows as LibreOffice shows them, by column key (the header read back first)."""
    assert rows[0] == [title(c) for c in columns]
    return [dict(zip(columns, cells, strict=True)) for cells in rows[1:]]


def number(value: str | None) -> Decimal | None:
    """A figure of a JSON answer or a cell; None for none (a correction has no basis or rate)."""
    return None if value in (None, "") else Decimal(str(value))


def money_cell(cell: str) -> Decimal:
    assert len(cell.split(".")[-1]) == 2 and "." in cell, cell  # shown with two decimals
    return Decimal(cell)


def test_finances_printed_tables_read_back_by_libreoffice_hold_the_reports_figures(
    http: Http, quarter: dict[str, str], tmp_path: Path
) -> None:
    answers, books = {}, []
    for report, path in PRINTED.items():
        answers[report] = http.ok("GET", path, role="finance", query={"period": Q})
        got = http.call("GET", path, role="finance", query={"period": Q, "format": "xlsx"})
        assert got.status_code == 200 and got.mimetype == XLSX, (report, got.status_code)
        books.append(tmp_path / f"{report}.xlsx")
        books[-1].write_bytes(got.data)
    shown = sheets_as_csv(books, tmp_path / "csv")
    sheets: dict[tuple[str, str], list[dict[str, str]]] = {}
    compared = 0
    for report, answer in answers.items():
        for table in tables_for(report, answer):
            rows = by_key(shown[(report, table.sheet)], table.columns)
            assert len(rows) == len(table.rows), (report, table.sheet)
            for row, cells in zip(table.rows, rows, strict=True):
                for key, cell in cells.items():
                    text = expected(key, row.get(key))
                    if text is not None:
                        assert cell == text, (report, key, cell)
                    elif row.get(key) is not None:
                        assert Decimal(cell) == Decimal(str(row[key])), (report, key, cell)
                        if kind(key) == "money":
                            money_cell(cell)
                        compared += 1
            sheets[(report, table.sheet)] = rows
    assert compared > 150

    # 返点确认单: one sheet per dealer; every line and total as /rebate-slips has them (R5, R6).
    slips = http.ok("GET", "/rebate-slips", role="finance", query={"period": Q})["slips"]
    names = {"Big": quarter["big"], "North": quarter["north"], "Small": quarter["small"]}
    dealer_sheets = {s: r for (rep, s), r in sheets.items()
                     if rep == "confirmations" and s.startswith("确认单 ")}
    assert sorted(s.split(" ", 2)[2] for s in dealer_sheets) == sorted(names)
    for sheet, rows in dealer_sheets.items():
        dealer_id = names[sheet.split(" ", 2)[2]]
        mine = [s for s in slips if s["dealer_id"] == dealer_id]
        lines = [(s["period"], x["line"], x["kind"], number(x["basis"]), number(x["rate"]),
                  Decimal(x["amount"])) for s in mine for x in s["lines"]]
        assert [(r["month"], int(r["line"]), r["kind"], number(r["basis"]), number(r["rate"]),
                 money_cell(r["amount"])) for r in rows if r["kind"] != "total"] == lines
        assert [(r["month"], money_cell(r["amount"])) for r in rows if r["kind"] == "total"] == [
            (s["period"], Decimal(s["total"])) for s in mine]
    big = dealer_sheets[next(s for s in dealer_sheets if s.endswith("Big"))]
    assert {r["answer"] for r in big if r["month"] == "2026-03" and r["kind"] != "total"} == {
        "confirmed"}
    small = dealer_sheets[next(s for s in dealer_sheets if s.endswith("Small"))]
    assert [(r["answer"], r["reason"], r["resolution"], r["correction"]) for r in small
            if r["month"] == "2026-01" and r["kind"] == "monthly"] == [
        ("disputed", "we reached the amount", "accepted", "14.00")]
    north = dealer_sheets[next(s for s in dealer_sheets if s.endswith("North"))]
    assert [(r["answer"], r["resolution"]) for r in north
            if r["month"] == "2026-03" and r["kind"] == "quarterly"] == [("disputed", "rejected")]

    # 销售业绩统计表: the K5 statistics' figures; target = 10,000.00 a month of agreement (D3).
    stats = http.ok("GET", "/reports/statistics", role="finance", query={"period": Q})
    dealers = {r["dealer_id"]: r for r in sheets[("sales-performance", "销售业绩统计表 By dealer")]}
    for row in stats["dealers"]:
        shown_row = dealers[row["dealer_id"]]
        for key in ("net_sales", "returns", "rebates"):
            assert money_cell(shown_row[key]) == Decimal(row[key]), key
        assert int(shown_row["orders"]) == row["orders"]
    assert {r["name"]: (money_cell(r["target"]), Decimal(r["achievement"]))
            for r in dealers.values()} == {
        "Big": (Decimal("30000.00"), Decimal("35.35")),  # 1,060,500.00 ÷ 3 × 10,000.00
        "Small": (Decimal("30000.00"), Decimal("0.0233")),
        "North": (Decimal("20000.00"), Decimal("15.6"))}  # from February's first order (D3)
    regions = {r["region"]: r for r in sheets[("sales-performance", "销售业绩统计表 By region")]}
    for row in stats["regions"]:
        assert money_cell(regions[row["region"]]["net_sales"]) == Decimal(row["net_sales"])
    assert money_cell(regions["total"]["net_sales"]) == Decimal(stats["totals"]["net_sales"])

    # 业务人员销售业绩统计表: the K2/K4 ranking's figures.
    ranking = http.ok("GET", "/reports/salespeople", role="manager", query={"period": Q})["rows"]
    people = {r["salesperson"]: r for r in sheets[("salesperson-performance", "业务人员销售业绩统计表")]}
    for row in ranking:
        got = people[row["salesperson"]]
        assert int(got["rank"]) == row["rank"]
        for key in ("net_sales", "quota", "target", "bonus"):
            assert money_cell(got[key]) == Decimal(row[key]), key
        assert Decimal(got["achievement"]) == Decimal(row["achievement"])
    assert money_cell(people["total"]["net_sales"]) == sum(
        (Decimal(r["net_sales"]) for r in ranking), Decimal(0))

    # 授权营销商的季度返点表: the policy's brackets (R4) and the ledger's quarterly entries (R3).
    policy = http.ok("GET", "/policy", role="finance", query={"on": "2026-01-01"})
    brackets = policy["terms"]["quarterly_rebate"]
    shown_brackets = sheets[("quarterly-rebates", "季度返点表 Brackets")]
    assert [(r["tier"], money_cell(r["threshold"]), Decimal(r["rate"])) for r in shown_brackets] == [
        (tier, Decimal(b["threshold"]), Decimal(b["rate"])) for tier, found in brackets.items()
        for b in found]
    entries = http.ok("GET", "/reports/rebates", role="finance", query={"period": Q})["entries"]
    standing = {r["dealer_id"]: r for r in sheets[("quarterly-rebates", "季度返点表 Dealers")]}
    quarterly = [e for e in entries if e["kind"] == "quarterly"]
    assert sorted(standing) == sorted(e["dealer_id"] for e in quarterly)
    for entry in quarterly:
        got = standing[entry["dealer_id"]]
        assert (money_cell(got["basis"]), Decimal(got["rate"]), money_cell(got["amount"])) == (
            Decimal(entry["basis"]), Decimal(entry["rate"]), Decimal(entry["amount"]))
    assert (standing[quarter["big"]]["bracket"], standing[quarter["big"]]["amount"]) == (
        "1", "21210.00")  # (10,500.00 + 1,050,000.00) × 2.0 %
    assert (standing[quarter["north"]]["bracket"], standing[quarter["north"]]["amount"]) == (
        "1", "4680.00")  # 312,000.00 × 1.5 %
    assert standing[quarter["small"]]["bracket"] == ""


def test_the_printed_tables_by_csv_and_cli_and_a_dealer_sees_its_own_slips_only(
    http: Http, quarter: dict[str, str], tmp_path: Path
) -> None:
    got = http.call("GET", PRINTED["confirmations"], role="finance",
                    query={"period": Q, "format": "csv"})
    with zipfile.ZipFile(BytesIO(got.data)) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["confirmations.csv", *(f"confirmation-{d}.csv" for d in quarter.values())])
    own = http.ok("GET", PRINTED["confirmations"], key=http.dealer_key(quarter["big"]),
                  query={"period": Q})
    assert {f["dealer_id"] for f in own["forms"]} == {quarter["big"]}
    http.refused(403, "GET", PRINTED["confirmations"], key=http.dealer_key(quarter["big"]),
                 query={"period": Q, "dealer_id": quarter["small"]})
    http.refused(403, "GET", PRINTED["sales-performance"], role="sales", query={"period": Q})
    month = http.ok("GET", PRINTED["quarterly-rebates"], role="auditor", query={"period": "2026-02"})
    assert month["quarter"] == Q  # a month names its quarter
    book = tmp_path / "performance.xlsx"
    database = ["--database", f"sqlite:///{tmp_path / 'channel.db'}", "--period", Q]
    assert main(["report", "sales-performance", "--format", "xlsx", "--output", str(book),
                 *database]) == 0
    sheet = load_workbook(book)["销售业绩统计表 By dealer"]
    assert sheet["A1"].value == "经销商编号 / Dealer id" and sheet.freeze_panes == "A2"
