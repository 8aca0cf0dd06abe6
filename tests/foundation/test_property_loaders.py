"""Property tests: random and malformed YAML and traces never escape as anything but LeanserveError."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLE_SPEC
from toolkit.errors import LeanserveError
from toolkit.spec import parse_spec
from toolkit.traffic import parse_trace

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
trees = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(max_size=12), c, max_size=4)), max_leaves=20)


def _accepts_or_clean_error(fn, text):
    try:
        fn(text)
    except LeanserveError as exc:
        assert exc.message and "\n" not in exc.message
        assert exc.hint


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text_as_spec(text):
    _accepts_or_clean_error(parse_spec, text)


@settings(max_examples=150, deadline=None)
@given(trees)
@example({"\n": None})  # a key with a newline must not break the one-line message
def test_random_yaml_trees_as_spec(tree):
    _accepts_or_clean_error(parse_spec, yaml.safe_dump(tree))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_example_spec(data):
    lines = EXAMPLE_SPEC.read_text().splitlines()
    i = data.draw(st.integers(0, len(lines) - 1))
    junk = data.draw(st.text(max_size=15))
    mode = data.draw(st.sampled_from(["replace", "insert", "delete", "append"]))
    if mode == "replace":
        lines[i] = junk
    elif mode == "insert":
        lines.insert(i, junk)
    elif mode == "delete":
        del lines[i]
    else:
        lines[i] += junk
    _accepts_or_clean_error(parse_spec, "\n".join(lines))


rows = st.lists(st.tuples(st.one_of(st.integers(-10, 10**10).map(str), st.text(max_size=25)), st.one_of(st.floats().map(str), st.text(max_size=8))), max_size=8)


@settings(max_examples=200, deadline=None)
@given(rows, st.booleans())
def test_random_traces(rs, header):
    text = ("timestamp,requests_per_second\n" if header else "") + "\n".join(f"{a},{b}" for a, b in rs)
    _accepts_or_clean_error(parse_trace, text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_binary_traces(blob):
    _accepts_or_clean_error(parse_trace, blob.decode("utf-8", errors="replace"))
