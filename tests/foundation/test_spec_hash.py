"""A spec that uses none of the fields added later keeps the hash its artifacts were written with."""

from __future__ import annotations

from tests.conftest import EXAMPLE_SPEC
from toolkit.spec import HASHED_ONLY_WHEN_SET, load_spec, parse_spec

# examples/minilm/leanserve.yaml as hashed before the token-level and generative fields existed
EXAMPLE_HASH_BEFORE = "870b4d689479ad0b60d914f1215619f323a3b0ebe64b882d90d628c201725512"


def test_the_example_keeps_its_hash():
    assert load_spec(EXAMPLE_SPEC).sha256 == EXAMPLE_HASH_BEFORE


def test_setting_a_later_field_changes_the_hash():
    base = load_spec(EXAMPLE_SPEC).sha256
    text = EXAMPLE_SPEC.read_text().replace("  days: 30", "  days: 30\n  tokens: {mean: 33, p50: 30, p90: 48, max: 128}")
    from toolkit.spec import spec_hash

    assert spec_hash(parse_spec(text)) != base
    assert ("traffic", "tokens") in HASHED_ONLY_WHEN_SET
