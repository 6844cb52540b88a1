"""`channel import` (DESIGN "Import"): history loaded through the application's own commands, on a
SQLite file and on PostgreSQL — a clean import, a re-run that adds nothing, rejected rows named by
line, column and rule with nothing of them written, a dry run that writes nothing and finds the same
rejections (rule refusals that depend on earlier rows included), multi-line orders and returns, and
the example files on the demo's store."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.order import OrderStatus
from services.application import ChannelLedger
from services.cli import main
from tests.builders import app_for_url, notifications, onboard, publish_prices, rated_dealer

ROOT = Path(__file__).resolve().parents[2]
ORDERS_HEADER = "dealer_name,client_ref,order_date,ship_to_region,payment,sku,qty,unit_price\n"


@dataclass
class Store:
    url: str
    app: ChannelLedger
    alpha: str  # tier A, active (east)
    beta: str  # tier AA, formal agreement signed: its first order activates it (D3)
    rated: str  # tier A with an open credit line of 10,000.00 (C3)
    files: Path

    def run(self, *args: str) -> int:
        return main(["import", *args, "--database", self.url])

    def write(self, name: str, text: str) -> str:
        path = self.files / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def position(self) -> int:
        return self.app.recorder.max_notification_id() or 0


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    app = app_for_url(database_url)
    publish_prices(app)
    alpha = onboard(app, "active", "A", name="Alpha")
    beta = onboard(app, "signed", "AA", name="Beta")
    rated = rated_dealer(app, name="Rated")
    app.close_period("2026-01", date(2026, 2, 1))
    yield Store(database_url, app, alpha, beta, rated, tmp_path)
    app.close()


def report(path: Path) -> list[tuple[str, str, str, str]]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    return [(r["line"], r["field"], r["rule"], r["kind"]) for r in rows]


def test_o1_a_clean_import_places_multi_line_orders_and_a_rerun_adds_nothing(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = store.write("orders.csv", "\ufeff" + ORDERS_HEADER + (
        "Alpha,A-1,2026-02-03,east,prepaid,ROUTER,2,\r\n"
        "Beta,B-1,2026-02-04,east,prepaid,SWITCH,10,\r\n"
        "Alpha,A-1,2026-02-03,east,prepaid,SWITCH,4,200.00\r\n"
    ))
    assert store.run("orders", orders) == 0
    out = capsys.readouterr()
    assert out.out.strip() == ("orders: 3 rows: 3 imported (2 orders), 0 already present, "
                               "0 rejected")
    assert out.err.count("\n") == 1 and "3/3 rows" in out.err  # not a terminal: one final line
    a1 = store.app.find_order(store.alpha, "A-1")
    assert a1 is not None and a1.status == OrderStatus.CONFIRMED
    assert [(x.sku, x.qty, x.unit_price) for x in a1.lines] == [
        ("ROUTER", 2, Decimal("700.00")), ("SWITCH", 4, Decimal("200.00"))]
    assert a1.total == Decimal("2200.00")
    assert store.app.get_dealer(store.beta).status.value == "active"  # D3: its first order
    before = notifications(store.app)
    assert store.run("orders", orders) == 0
    assert "0 imported (0 orders), 3 already present, 0 rejected" in capsys.readouterr().out
    assert notifications(store.app) == before


def test_rejected_rows_are_named_by_line_column_and_rule_and_write_nothing(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = store.write("orders.csv", ORDERS_HEADER + (
        "Alpha,A-2,2026-02-05,east,prepaid,ROUTER,1,\n"  # line 2: fine
        "Alpha,A-3,2026-02-05,east,prepaid,ROUTER,1,\n"  # line 3: refused with line 4
        "Alpha,A-3,2026-02-05,east,prepaid,SWITCH,1,100.00\n"  # below the floor 150.00 (P3)
        "Alpha,A-4,05/02/2026,east,prepaid,ROUTER,1,\n"  # not YYYY-MM-DD
        "Alpha,A-5,2026-02-05,east,prepaid,ROUTER,３,\n"  # full-width digit
        "Nobody,N-1,2026-02-05,east,prepaid,ROUTER,1,\n"  # no such dealer
        "Rated,R-1,2026-02-05,east,credit,ROUTER,10,\n"  # 7,000.00 on credit: within 10,000.00
        "Rated,R-2,2026-02-06,east,credit,ROUTER,10,\n"  # 7,000.00 more: beyond the limit (C3)
        "Alpha,A-6,2026-02-05,east,prepaid,ROUTER,1,1e3\n"  # not a decimal amount
    ))
    before = store.position()
    assert store.run("orders", orders, "--report", str(tmp_path / "rejected.csv")) == 3
    out = capsys.readouterr()
    assert "2 imported (2 orders), 0 already present, 7 rejected" in out.out
    assert "line 4: unit_price [P3]" in out.err and "below the floor price" in out.err
    assert report(tmp_path / "rejected.csv") == [
        ("3", "unit_price", "P3", "refused"), ("4", "unit_price", "P3", "refused"),
        ("5", "order_date", "O1", "invalid"), ("6", "qty", "O1", "invalid"),
        ("7", "dealer_name", "O1", "unknown"), ("9", "payment", "C3", "refused"),
        ("10", "unit_price", "O1", "invalid"),
    ]
    written = {n.originator_id for n in store.app.recorder.select_notifications(
        start=before + 1, limit=100)}
    a2, r1 = store.app.find_order(store.alpha, "A-2"), store.app.find_order(store.rated, "R-1")
    assert a2 is not None and r1 is not None
    assert a2.id in written and r1.id in written
    for ref in ("A-3", "A-4", "A-5", "A-6"):
        assert store.app.find_order(store.alpha, ref) is None, ref
    assert store.app.find_order(store.rated, "R-2") is None
    assert store.app.get_credit_line(store.rated).reserved_total == Decimal("7000.00")


def test_a_dry_run_writes_nothing_and_finds_the_same_rejections_as_the_real_run(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders = store.write("orders.csv", ORDERS_HEADER + (
        "Rated,R-1,2026-02-05,east,credit,ROUTER,10,\n"
        "Rated,R-2,2026-02-06,east,credit,ROUTER,10,\n"  # C3 only because R-1 reserved first
        "Beta,B-1,2026-02-04,north,prepaid,SWITCH,2,\n"  # D9: awaits approval, not refused
        "Alpha,A-1,2026-02-03,east,prepaid,ROUTER,0,\n"  # qty 0
    ))
    before = notifications(store.app)
    assert store.run("orders", orders, "--dry-run", "--report", str(tmp_path / "dry.csv")) == 3
    dry = capsys.readouterr().out
    assert notifications(store.app) == before
    assert "2 would be imported (2 orders), 0 already present, 2 rejected (dry run" in dry
    assert store.run("orders", orders, "--report", str(tmp_path / "real.csv")) == 3
    assert "2 imported (2 orders), 0 already present, 2 rejected" in capsys.readouterr().out
    assert report(tmp_path / "dry.csv") == report(tmp_path / "real.csv") == [
        ("3", "payment", "C3", "refused"), ("5", "qty", "O1", "invalid")]
    b1 = store.app.find_order(store.beta, "B-1")
    assert b1 is not None and b1.status == OrderStatus.AWAITING_APPROVAL


def test_o3_deliveries_pay_ship_and_deliver_whole_and_returns_count_line_by_line(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert store.run("orders", store.write("orders.csv", ORDERS_HEADER + (
        "Alpha,A-1,2026-02-03,east,prepaid,ROUTER,2,\n"
        "Alpha,A-1,2026-02-03,east,prepaid,SWITCH,4,\n"
        "Rated,R-1,2026-02-05,east,credit,ROUTER,10,\n"
        "Alpha,A-2,2026-01-20,east,prepaid,ROUTER,1,\n"
    ))) == 0
    deliveries = store.write("deliveries.csv", (
        "dealer_name,client_ref,shipped_on,delivered_on,paid_on,paid_amount\n"
        "Alpha,A-1,2026-02-04,2026-02-06,2026-02-03,\n"  # prepaid: paid first, in full
        "Rated,R-1,,2026-02-07,,\n"  # credit: shipped on the delivery date, a receivable
        "Alpha,A-2,2026-02-02,2026-01-31,2026-02-01,\n"  # delivered in closed January (O6)
    ))
    before = store.position()
    assert store.run("deliveries", deliveries) == 3
    out = capsys.readouterr()
    assert "2 imported (2 deliveries), 0 already present, 1 rejected" in out.out
    assert "line 4: delivered_on [O6]" in out.err
    a1, r1 = store.app.find_order(store.alpha, "A-1"), store.app.find_order(store.rated, "R-1")
    a2 = store.app.find_order(store.alpha, "A-2")
    assert a1 is not None and r1 is not None and a2 is not None
    assert (a1.status, a1.paid, a1.shipped_on) == (OrderStatus.PAID, Decimal("2100.00"),
                                                   date(2026, 2, 4))
    assert (r1.status, r1.delivered_on) == (OrderStatus.DELIVERED, date(2026, 2, 7))
    assert a2.status == OrderStatus.CONFIRMED and a2.paid == 0  # the row's payment not written
    assert store.app.get_credit_line(store.rated).receivable_total == Decimal("7000.00")
    unpaid = store.write("unpaid.csv", "dealer_name,client_ref,delivered_on\nAlpha,A-2,2026-02-03\n")
    assert store.run("deliveries", unpaid) == 3
    assert "line 2: paid_on [O4] a prepaid order ships once paid in full" in capsys.readouterr().err
    assert store.position() > before
    returns = store.write("returns.csv", (
        "dealer_name,client_ref,returned_on,sku,qty\n"
        "Alpha,A-1,2026-02-10,SWITCH,1\n"
        "Alpha,A-1,2026-02-10,ROUTER,1\n"
        "Alpha,A-1,2026-02-11,SWITCH,9\n"  # only 3 are left (O3)
    ))
    assert store.run("returns", returns) == 3
    assert "line 4: qty [O3]" in capsys.readouterr().err
    a1 = store.app.find_order(store.alpha, "A-1")
    assert a1 is not None and a1.returned_qty == {"SWITCH": 1, "ROUTER": 1}
    assert a1.returned_value == Decimal("875.00")  # 175.00 + 700.00 at the order's prices
    position = store.position()
    assert store.run("deliveries", deliveries) == 3
    assert store.run("returns", returns) == 3
    out = capsys.readouterr().out
    assert "0 imported (0 deliveries), 2 already present, 1 rejected" in out
    assert "0 imported (0 returns), 2 already present, 1 rejected" in out
    assert store.position() == position


def test_p3_d9_an_approval_date_confirms_an_order_that_waits_and_is_refused_on_one_that_does_not(
    store: Store, tmp_path: Path
) -> None:
    orders = store.write("orders.csv", (
        "dealer_name,client_ref,order_date,ship_to_region,payment,sku,qty,unit_price,approved_on,"
        "approval_note\n"
        "Alpha,A-1,2026-02-03,east,prepaid,ROUTER,1,650.00,2026-02-04,project price\n"  # < 700.00
        "Alpha,A-2,2026-02-03,north,prepaid,ROUTER,1,,2026-02-04,\n"  # another region (D9)
        "Alpha,A-3,2026-02-03,east,prepaid,ROUTER,1,,2026-02-04,\n"  # nothing to approve
        "Alpha,A-4,2026-02-03,north,prepaid,ROUTER,1,,,\n"  # waits: no approval given
    ))
    assert store.run("orders", orders, "--report", str(tmp_path / "rejected.csv")) == 3
    assert report(tmp_path / "rejected.csv") == [("4", "approved_on", "P3", "refused")]
    found = {ref: store.app.find_order(store.alpha, ref) for ref in ("A-1", "A-2", "A-3", "A-4")}
    assert {ref: o.status if o else None for ref, o in found.items()} == {
        "A-1": OrderStatus.CONFIRMED, "A-2": OrderStatus.CONFIRMED, "A-3": None,
        "A-4": OrderStatus.AWAITING_APPROVAL}
    a1 = found["A-1"]
    assert a1 is not None and a1.decision is not None
    assert (a1.decision["note"], a1.confirmed_on) == ("project price", date(2026, 2, 4))


def test_a_file_of_other_columns_is_refused_whole_with_a_one_line_reason(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    path = store.write("orders.csv", "dealer_name,client_ref,order_date,qyt\nAlpha,A-1,2026-02-03,1\n")
    before = store.position()
    assert store.run("orders", path) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("channel import: ") and "unknown column 'qyt'" in err
    assert len(err.splitlines()) == 1
    assert store.position() == before


def test_the_example_files_import_cleanly_into_the_demo_store_and_again_add_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["demo", "--database", url]) == 0
    for kind in ("orders", "deliveries", "returns"):
        assert main(["import", kind, str(ROOT / "examples" / "import" / f"{kind}.csv"),
                     "--database", url]) == 0, capsys.readouterr().err
    summaries = [x for x in capsys.readouterr().out.splitlines()
                 if x.startswith(("orders:", "deliveries:", "returns:"))]
    assert summaries == [
        "orders: 8 rows: 8 imported (7 orders), 0 already present, 0 rejected",
        "deliveries: 7 rows: 7 imported (7 deliveries), 0 already present, 0 rejected",
        "returns: 3 rows: 3 imported (2 returns), 0 already present, 0 rejected",
    ]
    for kind in ("orders", "deliveries", "returns"):
        assert main(["import", kind, str(ROOT / "examples" / "import" / f"{kind}.csv"),
                     "--database", url]) == 0
    again = capsys.readouterr().out
    assert again.count(" 0 imported") == 3
