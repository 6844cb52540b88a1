"""`/docs` serves its own pinned swagger-ui (swagger-ui-dist, its LICENSE beside it): every asset
the page names is answered by the application, nothing is loaded from elsewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration.http_fixtures import Http, http

__all__ = ["http"]

ASSETS = Path(__file__).resolve().parents[2] / "services" / "http" / "static" / "swagger-ui"


def test_docs_names_only_assets_the_application_serves_itself(http: Http) -> None:
    page = http.client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(url.startswith("/docs/assets/") for url in urls), urls
    assert "cdn" not in html and "https://" not in html.replace("https://swagger.io", "")
    for url in urls:  # no key needed, as for the page itself
        answer = http.client.get(url)
        assert answer.status_code == 200, url
        assert answer.get_data() == (ASSETS / url.rsplit("/", 1)[-1]).read_bytes()


def test_the_assets_are_one_pinned_swagger_ui_dist_with_its_licence(http: Http) -> None:
    package = json.loads((ASSETS / "package.json").read_text())
    assert package["name"] == "swagger-ui-dist"
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"])
    assert "Apache License" in (ASSETS / "LICENSE").read_text()
    assert http.client.get("/docs/assets/LICENSE").status_code == 200
