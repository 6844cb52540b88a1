"""The console's scenarios in headless chromium (issue: a dealer orders, sees its bracket chart move,
confirms a slip line and disputes another; a manager approves a below-tier price from the queue;
finance previews and closes a month; an auditor opens a figure's events; a dealer is refused another
dealer's page; a form without its CSRF token is refused; Chinese on request; `/docs` with its own
assets). In file order: the close of July comes last."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import requests
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.e2e.console.conftest import ROOT, screenshot

Demo = tuple[Any, Any, dict[str, str]]


def submit(driver: Any, element: Any) -> None:
    """Click what leaves the page and wait for the next one: the page left is marked, and the
    wait ends when a document without the mark has loaded. (Waiting for the old element to go
    stale races chromedriver: a node of a document being replaced can answer "does not belong
    to the document" instead of "stale".)"""
    driver.execute_script("document.documentElement.dataset.left = '1'")
    element.click()
    WebDriverWait(driver, 20, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && !document.documentElement.dataset.left"
        )
    )


def sign_in(driver: Any, server: Any, key: str) -> None:
    driver.delete_all_cookies()
    driver.get(server.url + "/console/sign-in")
    driver.find_element(By.ID, "api-key").send_keys(key)
    submit(driver, driver.find_element(By.ID, "sign-in"))
    assert "/sign-in" not in driver.current_url, (
        driver.find_element(By.TAG_NAME, "main").text or driver.page_source[:500])


def chart(driver: Any) -> dict[str, Any]:
    canvas = driver.find_element(By.ID, "bracket-chart")
    assert driver.execute_script("return arguments[0].dataset.drawn", canvas) == "1"  # Chart.js ran
    return dict(json.loads(canvas.get_attribute("data-chart")))


def place_order(driver: Any, server: Any, dealer_id: str, sku: str, qty: int, price: str = "") -> None:
    driver.get(f"{server.url}/console/dealers/{dealer_id}/orders")
    date = driver.find_element(By.ID, "order-date")
    driver.execute_script("arguments[0].value = '2026-07-10'", date)
    Select(driver.find_element(By.ID, "sku0")).select_by_value(sku)
    driver.find_element(By.ID, "qty0").send_keys(str(qty))
    if price:
        driver.find_element(By.ID, "price0").send_keys(price)
    submit(driver, driver.find_element(By.ID, "place-order"))


def test_dealer_orders_sees_its_chart_move_and_answers_its_slip(demo: Demo, browser: Any) -> None:
    server, api, keys = demo
    hangzhou = keys["id:Hangzhou Wavenet"]
    sign_in(browser, server, keys["dealer"])
    assert browser.current_url.endswith(f"/console/dealers/{hangzhou}/")
    before = chart(browser)
    assert before["labels"] == ["R2 2026-07", "R3 2026-Q3"]

    place_order(browser, server, hangzhou, "ML-S2400", 3)
    assert "/console/orders/" in browser.current_url
    assert browser.find_element(By.ID, "order-status").text == "confirmed"
    assert "Placed" in browser.find_element(By.ID, "timeline").text
    browser.get(f"{server.url}/console/dealers/{hangzhou}/")
    after = chart(browser)
    # 3 × the AA price of ML-S2400 (6,240.00) more in open orders, on both brackets.
    assert [float(a) - float(b) for a, b in zip(after["pending"], before["pending"], strict=True)] == [
        18720.0, 18720.0]
    screenshot(browser, "dealer-home")

    # A refusal is shown on the form with its rule id, and nothing is written.
    orders = len(api.ok("GET", f"/orders?dealer_id={hangzhou}", role="manager")["orders"])
    place_order(browser, server, hangzhou, "ML-S2400", 1, "100")
    assert re.match(r"\[P\d\] ", browser.find_element(By.ID, "refusal").text)
    assert len(api.ok("GET", f"/orders?dealer_id={hangzhou}", role="manager")["orders"]) == orders

    browser.get(f"{server.url}/console/dealers/{hangzhou}/slips")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "tr[data-period='2026-06'] a.open-slip"))
    browser.find_element(By.ID, "dispute2").click()
    browser.find_element(By.ID, "reason2").send_keys("HZ-003 was delivered on 06-30")
    submit(browser, browser.find_element(By.ID, "answer-slip"))
    lines = {r.get_attribute("data-line"): r.find_element(By.CLASS_NAME, "line-status").text
             for r in browser.find_elements(By.CSS_SELECTOR, "tr.slip-line")}
    assert lines == {"1": "issued", "2": "disputed"}
    slips = api.ok("GET", f"/rebate-slips?dealer_id={hangzhou}&period=2026-06", role="finance")["slips"]
    assert slips[0]["disputes"][0]["lines"] == [{"line": 2, "reason": "HZ-003 was delivered on 06-30"}]

    browser.get(f"{server.url}/console/dealers/{hangzhou}/slips")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "tr[data-period='2026-05'] a.open-slip"))
    submit(browser, browser.find_element(By.ID, "answer-slip"))  # every line left at "confirm"
    assert browser.find_element(By.ID, "slip-status").text == "confirmed"
    submit(browser, browser.find_element(By.LINK_TEXT, "Print view"))
    assert "返点确认单" in browser.find_element(By.TAG_NAME, "h1").text


def test_manager_approves_a_below_tier_price_from_the_queue(demo: Demo, browser: Any) -> None:
    server, _, keys = demo
    hangzhou = keys["id:Hangzhou Wavenet"]
    sign_in(browser, server, keys["dealer"])
    place_order(browser, server, hangzhou, "ML-S4800", 2, "10500")  # below AA's tier price (P3)
    assert browser.find_element(By.ID, "order-status").text == "awaiting_approval"
    order_url = browser.current_url

    sign_in(browser, server, keys["manager"])
    row = browser.find_element(By.CSS_SELECTOR, "#queue tr.waiting")
    assert "[P3]" in row.text
    row.find_element(By.NAME, "note").send_keys("project price for the Hangzhou metro")
    submit(browser, row.find_element(By.CSS_SELECTOR, "button.approve"))
    assert browser.find_element(By.ID, "queue-empty")
    browser.get(order_url)
    assert browser.find_element(By.ID, "order-status").text == "confirmed"
    browser.get(server.url + "/console/manager/rankings?period=2026-Q2")
    assert browser.find_element(By.ID, "dealer-ranking").text.count("\n") >= 5
    d5 = browser.find_element(By.ID, "d5").text  # north has an A dealer and no AA one (D5)
    assert re.search(r"north: A Beijing Datacom; AA — D5", d5), d5
    people = browser.find_element(By.ID, "people").text  # the quarter's K2/K4 flags
    assert re.search(r"chen .*probation_extended dismissal_review", people), people
    screenshot(browser, "manager-rankings")


def test_a_dealer_is_refused_another_dealers_page(demo: Demo, browser: Any) -> None:
    server, _, keys = demo
    sign_in(browser, server, keys["dealer"])
    browser.get(f"{server.url}/console/dealers/{keys['id:Beijing Datacom']}/")
    assert browser.find_element(By.ID, "error-title").text.startswith("403")
    assert "Beijing" not in browser.page_source


def test_a_form_without_its_csrf_token_is_refused(demo: Demo, browser: Any) -> None:
    server, api, keys = demo
    hangzhou = keys["id:Hangzhou Wavenet"]
    sign_in(browser, server, keys["dealer"])
    orders = len(api.ok("GET", f"/orders?dealer_id={hangzhou}", role="manager")["orders"])
    browser.get(f"{server.url}/console/dealers/{hangzhou}/orders")
    browser.execute_script("document.querySelector('#new-order [name=csrf_token]').remove()")
    place_order_fields = browser.find_element(By.ID, "qty0")
    Select(browser.find_element(By.ID, "sku0")).select_by_value("ML-AP300")
    place_order_fields.send_keys("1")
    submit(browser, browser.find_element(By.ID, "place-order"))
    assert browser.find_element(By.ID, "error-title").text.startswith("400")
    assert "CSRF" in browser.find_element(By.ID, "error-text").text
    assert len(api.ok("GET", f"/orders?dealer_id={hangzhou}", role="manager")["orders"]) == orders


def test_chinese_from_accept_language_and_from_the_switch(demo: Demo, browser: Any) -> None:
    server, _, keys = demo
    page = requests.get(server.url + "/console/sign-in", headers={"Accept-Language": "zh-CN,zh;q=0.9"},
                        timeout=10)
    assert "登录" in page.text
    sign_in(browser, server, keys["dealer"])
    assert "Rebate slips" in browser.find_element(By.TAG_NAME, "nav").text
    submit(browser, browser.find_element(By.ID, "lang-zh"))
    assert "返点确认单" in browser.find_element(By.TAG_NAME, "nav").text
    assert "距下一返点档的差距" in browser.page_source
    browser.set_window_size(390, 844)  # a phone
    screenshot(browser, "dealer-home-phone-zh")
    browser.set_window_size(1280, 1000)
    submit(browser, browser.find_element(By.ID, "lang-en"))
    assert "Rebate slips" in browser.find_element(By.TAG_NAME, "nav").text


def test_an_auditor_opens_a_figures_events(demo: Demo, browser: Any) -> None:
    server, _, keys = demo
    sign_in(browser, server, keys["auditor"])
    assert "The log verifies" in browser.find_element(By.ID, "verify-status").text
    browser.get(server.url + "/console/audit/?period=2026-Q2")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#ledger a.figure"))
    events = browser.find_elements(By.CSS_SELECTOR, "#events li[data-position]")
    assert events and all("Delivered" in e.text or "Returned" in e.text for e in events)


def test_finance_previews_and_closes_a_month(demo: Demo, browser: Any) -> None:
    server, api, keys = demo
    sign_in(browser, server, keys["finance"])
    assert browser.find_element(By.ID, "close-month").text == "2026-07"
    preview = browser.find_element(By.ID, "preview-slips").text
    assert "Hangzhou Wavenet" in preview
    total = browser.find_element(By.ID, "rebate-total").text
    submit(browser, browser.find_element(By.ID, "confirm-close"))
    assert browser.find_element(By.ID, "closed").text.endswith("2026-07")
    assert browser.find_element(By.ID, "close-month").text == "2026-08"
    slips = api.ok("GET", "/rebate-slips?period=2026-07", role="finance")["slips"]
    assert sum(float(line["amount"]) for s in slips for line in s["lines"]) == float(total)
    docs = ROOT / "docs" / "img"
    if docs.exists():  # the README's pictures, from this run
        for name in ("dealer-home", "manager-rankings"):
            shutil.copy(ROOT / "var" / "screenshots" / f"{name}.png", docs / f"console-{name}.png")


def test_the_api_browser_serves_its_own_assets(demo: Demo, browser: Any) -> None:
    server, _, _ = demo
    browser.get(server.url + "/docs")
    WebDriverWait(browser, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"))
    assert "Channel Ledger" in browser.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text
    page = requests.get(server.url + "/docs", timeout=10).text
    assert "cdn" not in page and "/docs/assets/swagger-ui-bundle.js" in page
