"""The fast envelope reader (infra/envelope/fast.py) against marshmallow: every event type of the
demo is read by it, with the values marshmallow gives; an altered document it accepts is one
marshmallow accepts with the same values; anything else it leaves to marshmallow."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples.ml_company import Demo
from infra.envelope import Codec, EnvelopeError
from infra.envelope.codec import fast_loads
from infra.envelope.fast import Unsure, read_envelope
from infra.settings import Settings
from services.bootstrap import build_runtime
from tests.builders import POLICY

CODEC = Codec()


@pytest.fixture(scope="module")
def documents() -> Iterator[list[dict[str, Any]]]:
    """The envelope of every event of the demo (read side on: closes, slips, disputes)."""
    rt = build_runtime(Settings().with_database("sqlite:///:memory:"), initial_policy=POLICY)
    Demo(rt.app, after=lambda done: rt.sync(done.position), reports=rt.reports,
         say=lambda _: None).run()
    docs = []
    for n in rt.app.recorder.select_notifications(start=1, limit=100_000):
        event = rt.app.mapper.to_domain_event(n)
        docs.append(json.loads(CODEC.encode(event, position=n.id, predecessor=n.id - 1,
                                            partitionkey="p")))
    rt.close()
    yield docs


def fast(doc: Any) -> dict[str, Any]:
    return read_envelope(copy.deepcopy(doc), CODEC._reader)


def slow(doc: Any) -> dict[str, Any]:
    return CODEC._load(copy.deepcopy(doc))


def test_every_compiled_event_type_of_the_demo_is_read_fast_with_marshmallows_values(
    documents: list[dict[str, Any]],
) -> None:
    types = set()
    for doc in documents:
        entry = CODEC.catalog.named(doc["type"])
        assert entry is not None
        if entry.reader is None:
            with pytest.raises(Unsure):
                fast(doc)
            continue
        assert fast(doc) == slow(doc)
        types.add(doc["type"])
    assert len(types) >= 30  # the demo's event types but the few it never records


ODD = [None, "", "x", 0, -1, 1, 1.5, True, False, [], {}, [1], {"a": 1}, "1E+2", "NaN",
       "Infinity", " 12.00", "12.", ".5", "１２", "-0", "2026-02-30", "20260402", "2026-4-2",
       "2026-04-02T10:00:00", "2026-04-02T10:00:00Z", "2026-04-02T10:00:00.5+00:00",
       "F0E1D2C3-B4A5-4697-8879-6A5B4C3D2E1F", "f0e1d2c3b4a546978879 6a5b4c3d2e1f", "1.0"]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_paths(v, (*prefix, i)))
    return found


def _altered(doc: dict[str, Any], path: tuple[Any, ...], how: str, odd: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    parent: Any = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "replace":
        parent[last] = odd
    elif how == "delete":
        del parent[last]
    elif isinstance(parent, dict):
        parent["extra"] = odd
    else:
        parent.append(odd)
    return doc


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_an_altered_document_the_fast_reader_accepts_marshmallow_accepts_alike(
    documents: list[dict[str, Any]], data: st.DataObject,
) -> None:
    doc = data.draw(st.sampled_from(documents))
    path = data.draw(st.sampled_from(_paths(doc)))
    how = data.draw(st.sampled_from(["replace", "delete", "add"]))
    altered = _altered(doc, path, how, data.draw(st.sampled_from(ODD)))
    try:
        quick = fast(altered)
    except Unsure:
        return  # marshmallow decides, as it did before the fast reader
    try:
        assert slow(altered) == quick
    except EnvelopeError:
        pytest.fail(f"the fast reader accepted what marshmallow refuses: {path} {how}")


def test_the_codec_decodes_alike_with_or_without_the_fast_reader(
    documents: list[dict[str, Any]],
) -> None:
    for doc in documents:
        value = json.dumps(doc)
        envelope = CODEC.decode(value)
        loaded = slow(doc)
        assert envelope.data == loaded["data"]
        assert (envelope.subject, envelope.time, envelope.partitionkey) == (
            loaded["subject"], loaded["time"], loaded["partitionkey"])



def test_a_document_altered_within_the_schema_is_still_read_fast(
    documents: list[dict[str, Any]],
) -> None:
    """The alterations above reach documents the fast reader accepts: another source, no
    partition key, a text field of the data changed."""
    for doc in documents:
        if CODEC.catalog.named(doc["type"]).reader is None:  # type: ignore[union-attr]
            continue
        altered = copy.deepcopy(doc)
        altered["source"] = "urn:another-store"
        del altered["partitionkey"]
        for key, value in altered["data"].items():
            if isinstance(value, str) and not value[:1].isdigit():
                altered["data"][key] = value + " (altered)"
        assert fast(altered) == slow(altered)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _floats_in(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(map(_floats_in, value))
    if isinstance(value, dict):
        return any(map(_floats_in, value.values()))
    return False


def _same_reading_but_floats(text: str | bytes) -> None:
    """Where orjson reads no float, its values are the standard library's."""
    fast_doc = fast_loads(text)
    if fast_doc is None or _floats_in(fast_doc):
        return
    assert fast_doc == json.loads(text)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, ascii_only=st.booleans(), as_bytes=st.booleans())
def test_orjson_reads_a_document_without_floats_as_the_standard_library(
    value: Any, ascii_only: bool, as_bytes: bool,
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    _same_reading_but_floats(text.encode() if as_bytes else text)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(
    st.text(alphabet='{}[]",:.-+0123456789eEtrufalsnNIiy \\u\ud800\ufeff'),
    st.binary(),
    st.integers().map(str),
    st.sampled_from(["NaN", "-Infinity", "1e400", '"\\ud800"', "[1,]", '{"a":1,"a":2}',
                     "\ufeff{}", "9" * 30, "[" * 2000 + "]" * 2000]),
))
def test_orjson_reads_any_text_without_floats_as_the_standard_library(text: str | bytes) -> None:
    try:
        json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        assert fast_loads(text) is None or _floats_in(fast_loads(text))  # refused, not misread
        return
    _same_reading_but_floats(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_codec_decodes_an_altered_message_as_marshmallow_on_the_standard_librarys_reading(
    documents: list[dict[str, Any]], data: st.DataObject,
) -> None:
    """The whole decode (orjson and the fast reader, else marshmallow) against marshmallow on
    json.loads' document, integers beyond 64 bits included."""
    doc = data.draw(st.sampled_from(documents))
    path = data.draw(st.sampled_from(_paths(doc)))
    how = data.draw(st.sampled_from(["replace", "delete", "add"]))
    odd = data.draw(st.sampled_from([*ODD, 1 << 64, -(1 << 63) - 1, 10**30, 2.0, 1e300]))
    value = json.dumps(_altered(doc, path, how, odd))
    try:
        reference = slow(json.loads(value))
    except EnvelopeError:
        with pytest.raises(EnvelopeError):
            CODEC.decode(value)
        return
    envelope = CODEC.decode(value)
    assert (envelope.id, envelope.source, envelope.type.name, envelope.subject, envelope.time,
            envelope.position, envelope.aggregateversion, envelope.predecessor,
            envelope.partitionkey, envelope.data) == (
        reference["id"], reference["source"], reference["type"], reference["subject"],
        reference["time"], reference["position"], reference["aggregateversion"],
        reference["predecessor"], reference["partitionkey"], reference["data"])
