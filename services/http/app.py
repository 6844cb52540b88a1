"""The HTTP intake: a Flask app with flask-smorest, whose OpenAPI 3 document is generated from the
marshmallow schemas; request ids, request logging and bearer-key authentication."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import flask
from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException

from infra import jsontext
from infra.envelope import Money
from infra.settings import Settings
from projections.faults import reason_of
from services import console
from services.bootstrap import build_key_store, build_runtime
from services.http import errors, idempotency
from services.http.auth import authenticate, public
from services.http.bodies import check_body
from services.http.context import Channel, channel
from services.http.keys import KeyStore
from services.http.openapi import SchemaConstraints
from services.http.resources import (
    api_keys,
    credit,
    dealers,
    finance,
    orders,
    periods,
    policy,
    price_list,
    reports,
    slips,
    spare_parts,
)
from services.http.schemas.health import HealthSchema
from services.runtimes.base import Runtime

log = logging.getLogger("channel.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

DESCRIPTION = """Channel Ledger: orders and rebates of a tiered distribution channel, event-sourced.

Every request but `/healthz` names a key: `Authorization: Bearer <api key>`. Money is a decimal
string (`"12000.00"`), dates are `YYYY-MM-DD`, months `YYYY-MM`, quarters `YYYY-Qn`. Errors answer
`{code, status, message, errors?, rule?, read_model?, request_id}`: 401 no or unknown key, 403 role
not allowed or another dealer's data, 404 unknown id, 422 a request that fails its schema (field
by field), 409 a business rule refuses (`rule` names the RULES.md id), 503 a read of the read
model while it is stopped at an event it cannot apply (`read_model` names the position and the
reason; `/healthz` says so too). A request this document admits is not answered 422: what a
schema cannot state (the order of a table's rows, a SKU or month named twice, a return of what
the order does not hold) is 409 with its rule, a slip line or dispute that does not exist 404.
A refused request writes nothing; a command whose events are stored is answered from the write
side, whatever the read model does."""


class JSONProvider(DefaultJSONProvider):
    """Decimals as strings and dates as ISO dates, also inside free-form objects (explanations)."""

    sort_keys = False

    default = staticmethod(jsontext.default)


class ChannelApi(Api):
    """flask-smorest's Api answering every HTTPException with the one error body."""

    ERROR_SCHEMA = errors.ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> ResponseReturnValue:
        return errors.handle_http(error)


def create_app(
    runtime_or_settings: Runtime | Settings,
    *,
    settings: Settings | None = None,
    keys: KeyStore | None = None,
    clock: Callable[[], date] = date.today,
) -> Flask:
    """The WSGI app. Given settings, it has the composition root build the runtime and the key
    store from them; given a runtime, it uses it (and `settings`, default from the environment, for
    the key store)."""
    if isinstance(runtime_or_settings, Settings):
        settings = runtime_or_settings
        runtime = build_runtime(settings, clock=clock)
    else:
        runtime = runtime_or_settings
        settings = settings or Settings()
    if keys is None:
        keys = build_key_store(settings)

    app = Flask("channel")
    app.json = JSONProvider(app)
    app.config.update(
        API_TITLE="Channel Ledger",
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        MAX_CONTENT_LENGTH=4 * 1024 * 1024,  # a price list of 10,000 items fits; 413 beyond
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # swagger-ui-dist's files served by the app itself (services/http/static/swagger-ui,
        # version in its package.json): /docs works with no internet, nothing from a CDN.
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": DESCRIPTION},
            "components": {
                "securitySchemes": {
                    "apiKey": {"type": "http", "scheme": "bearer", "description": "an API key"}
                }
            },
            "security": [{"apiKey": []}],
        },
    )
    app.extensions["channel"] = Channel(runtime=runtime, keys=keys, settings=settings)
    app.before_request(_start)
    app.before_request(authenticate)
    app.before_request(check_body)  # depth and number limits before any schema reads the body
    app.before_request(idempotency.before)
    app.after_request(idempotency.after)
    app.after_request(_finish)
    app.teardown_request(idempotency.teardown)

    api = ChannelApi(app, spec_kwargs={"extra_plugins": [SchemaConstraints()]})
    errors.register(app)  # the domain's errors, a stopped read model, anything unexpected
    # Money is a decimal string, never a JSON number (HTTP's amounts and rates are kinds of it).
    api.register_field(Money, "string", None)
    api.register_blueprint(health)
    app.register_blueprint(docs_assets)
    for blueprint in _resources():
        api.register_blueprint(blueprint)
    console.register(app, settings.CHANNEL_DATABASE_URL, keys)  # /console/ (DESIGN: Web console)
    return app


def _resources() -> list[Blueprint]:
    return [
        dealers.blp, price_list.blp, policy.blp, orders.blp, credit.blp, spare_parts.blp, periods.blp,
        slips.blp, reports.blp, finance.blp, api_keys.blp,
    ]


# --- request id and log ----------------------------------------------------------------------------

def _start() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    who = g.get("principal")
    # Never the key: its id (or a prefix of its digest, for bootstrap keys) says whose it was.
    log.info(
        "%s %s %s %d %.1fms key=%s role=%s",
        g.get("request_id", "-"),
        request.method,
        request.path,
        response.status_code,
        (time.perf_counter() - g.get("started", time.perf_counter())) * 1000,
        who.key_id if who else "-",
        who.role.value if who else "-",
    )
    return response


docs_assets = flask.Blueprint(
    "docs-assets", __name__, static_folder="static/swagger-ui", static_url_path="/docs/assets"
)


# --- health --------------------------------------------------------------------------------------

health = Blueprint("health", __name__, description="Liveness")


@health.route("/healthz", methods=["GET"])
@public
@health.response(200, HealthSchema)
@health.alt_response(503, schema=HealthSchema, description="degraded: the read model is stopped "
                     "at an event it cannot apply, or the database does not answer")
def healthz() -> tuple[dict[str, Any], int]:
    """Answers without a key: the service, its database and how far the read model is

    Degraded (503) when the read model is stopped at an event it cannot apply (`stopped_at`,
    `reason`): commands are still taken, reads of the read model answer 503.
    """
    state = channel()
    try:
        state.keys.ping()
        read = state.runtime.read_state()
    except Exception as error:
        log.error("healthz: the database does not answer: %s", reason_of(error))
        return {"status": "degraded", "database": f"unavailable ({type(error).__name__})"}, 503
    degraded = read.fault is not None
    answer = {"status": "degraded" if degraded else "ok", "database": "ok",
              "read_model": read.as_dict()}
    return answer, 503 if degraded else 200


def shutdown(app: Flask) -> None:
    """Close what `create_app` opened: the runtime and the key store's connections."""
    state: Channel = app.extensions["channel"]
    state.runtime.close()
    state.keys.close()
