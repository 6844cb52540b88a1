"""docker-compose.yml cannot be run here (no Docker engine): check that it parses, that it wires the
production topology of DESIGN.md with the settings the code reads, and that the README documents
them."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.settings import Settings
from services.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    parsed = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(parsed, dict)
    return parsed


def test_the_compose_file_runs_postgres_kafka_in_kraft_mode_intake_relay_and_consumers(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "kafka", "proxy", "intake", "relay", "consumer"}
    assert services["postgres"]["image"] == "postgres:15"
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(kafka["environment"]["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in key for key in kafka["environment"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", kafka["environment"]["CLUSTER_ID"])
    commands = {name: services[name]["command"][0] for name in ("intake", "relay", "consumer")}
    assert commands == {"intake": "serve", "relay": "relay", "consumer": "consume"}
    assert services["consumer"]["deploy"]["replicas"] >= 2  # a group of more than one member


def test_every_service_command_is_a_command_line_the_channel_cli_accepts(
    compose: dict[str, Any],
) -> None:
    parser = build_parser()
    for name in ("intake", "relay", "consumer"):
        args = parser.parse_args(compose["services"][name]["command"])
        assert callable(args.func)


def test_the_app_image_is_built_from_the_dockerfile_with_channel_as_its_entrypoint(
    compose: dict[str, Any],
) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["channel"]' in dockerfile
    for name in ("intake", "relay", "consumer"):
        assert compose["services"][name]["build"] == "."
    for source in re.findall(r"^COPY (\S+)", dockerfile, flags=re.MULTILINE):
        assert (ROOT / source).exists(), source


def test_the_services_read_only_settings_that_exist_and_the_readme_documents_them(
    compose: dict[str, Any],
) -> None:
    known = {f.name for f in dataclasses.fields(Settings)}
    readme = (ROOT / "README.md").read_text()
    for name in ("intake", "relay", "consumer"):
        used = {k for k in compose["services"][name]["environment"] if k.startswith("CHANNEL_")}
        assert used <= known, used - known
        undocumented = {k for k in used if f"`{k}`" not in readme}
        assert not undocumented, undocumented


def test_what_the_services_depend_on_and_mount_is_declared(compose: dict[str, Any]) -> None:
    services, volumes = compose["services"], set(compose.get("volumes") or {})
    for name, service in services.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, (name, dependency)
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0]
            assert source in volumes or (ROOT / source).exists(), (name, mount)
    assert (ROOT / "deploy" / "postgres" / "10-reporting.sql").is_file()


def test_clients_reach_the_intake_only_through_the_proxy_with_size_and_timeout_limits(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert "ports" not in services["intake"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:") and proxy["ports"] == ["8000:8000"]
    mount = next(v for v in proxy["volumes"] if v.endswith("/etc/nginx/conf.d/default.conf:ro"))
    conf = (ROOT / mount.split(":", 1)[0]).read_text()
    settings = {m[0]: m[1] for m in re.findall(r"^\s*([a-z_]+)\s+([^;]+);", conf, re.M)}
    assert settings["client_max_body_size"] == "4m"  # the app's MAX_CONTENT_LENGTH
    for name in ("client_header_timeout", "client_body_timeout", "send_timeout",
                 "keepalive_timeout", "proxy_read_timeout"):
        assert re.fullmatch(r"\d+s", settings[name]), name
    assert settings["proxy_request_buffering"] == "on"
    assert "proxy_pass http://channel_intake" in conf and "server intake:8000" in conf
