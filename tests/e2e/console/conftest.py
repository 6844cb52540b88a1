"""The console in Debian's chromium, driven by Selenium: a real server process on a database the
demo scenario filled (Q2 2026 closed, July open), one browser per test module."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import BIN, ROOT, Client, Server, environment, gunicorn

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "var" / "screenshots"
OPTIONS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run")


def _browser_present() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    message = f"{', '.join(missing)} missing: `make test` installs Debian's chromium and chromium-driver"
    if os.environ.get("CI"):
        pytest.fail(message)  # never skipped in CI
    pytest.skip(message)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Client, dict[str, str]]]:
    """A server on the demo quarter, with a dealer key for Hangzhou Wavenet (its June slip is
    unanswered) issued through the API as admin."""
    _browser_present()
    directory = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{directory / 'demo.db'}"
    subprocess.run([str(BIN / "channel"), "demo", "--database", url, "--fresh"], cwd=ROOT,
                   env=environment(url, 0), check=True, stdout=subprocess.DEVNULL)
    with gunicorn(url, directory, workers=2).start() as server:
        api = Client(server.url, server.keys)
        dealers = {d["name"]: d["dealer_id"] for d in api.ok("GET", "/dealers", role="manager")["dealers"]}
        keys = dict(server.keys)
        for name, role in (("Hangzhou Wavenet", "dealer"),):
            made = api.ok("POST", "/api-keys", 201, role="admin",
                          json={"role": role, "dealer_id": dealers[name], "label": "console e2e"})
            keys["dealer"] = made["key"]
        keys.update({f"id:{name}": dealer_id for name, dealer_id in dealers.items()})
        yield server, api, keys


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _browser_present()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for option in (*OPTIONS, f"--user-data-dir={profile}", "--window-size=1280,1000", "--lang=en-US"):
        options.add_argument(option)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: object, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    return path
