"""The ceiling of the HTTP benchmark: the same stack doing the least an intake can do — Flask, a
marshmallow schema of an order, and one INSERT+COMMIT per request on PostgreSQL (a connection per
worker), run under the intake's gunicorn settings (bench/trivial_conf.py) and driven by the same
clients.

    BENCH_TRIVIAL_CONNINFO='host=… dbname=…' BENCH_TRIVIAL_TABLE='"schema"."table"' \\
        CHANNEL_WORKERS=4 CHANNEL_PORT=PORT \\
        gunicorn -c bench/trivial_conf.py 'bench.trivial_app:create()'
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import psycopg
from flask import Flask, request
from marshmallow import Schema, ValidationError, fields, validate


class LineSchema(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=64))
    qty = fields.Integer(required=True, validate=validate.Range(min=1))
    unit_price = fields.Decimal(as_string=True)


class OrderSchema(Schema):
    dealer_id = fields.String(required=True)
    client_ref = fields.String(required=True, validate=validate.Length(min=1, max=100))
    order_date = fields.Date(required=True)
    ship_to_region = fields.String(required=True)
    payment = fields.String(required=True, validate=validate.OneOf(["prepaid", "credit"]))
    lines = fields.List(fields.Nested(LineSchema), required=True, validate=validate.Length(min=1))


def create() -> Flask:
    conninfo = os.environ["BENCH_TRIVIAL_CONNINFO"]
    table = os.environ["BENCH_TRIVIAL_TABLE"]
    app = Flask("trivial")
    schema = OrderSchema()
    local = threading.local()

    def connection() -> psycopg.Connection[Any]:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(conninfo)
        return conn

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        return {"status": "ok"}, 200

    @app.post("/orders")
    def place() -> tuple[dict[str, Any], int]:
        try:
            order = schema.load(request.get_json(force=True))
        except ValidationError as error:
            return {"errors": error.messages}, 422
        conn = connection()
        row = conn.execute(
            f"INSERT INTO {table} (body) VALUES (%s) RETURNING id",
            (json.dumps(schema.dump(order)),),
        ).fetchone()
        conn.commit()
        assert row is not None
        return {"id": str(row[0]), "status": "confirmed"}, 201

    return app
