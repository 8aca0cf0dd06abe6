"""`leanserve bench`: closed/open loops, profiles.json, the SageMaker path, and a server killed mid-run."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, run_cli


def _point(**kw):
    from toolkit.artifacts.profiles import LoadPoint

    base = dict(mode="closed", concurrency=1, duration_s=10, sent=100, completed=100, errors=0, throughput_rps=10.0, p95_ms=10.0)
    base.update(kw)
    return LoadPoint(**base)


def test_max_rps_at_sla_is_the_best_point_that_held():
    from toolkit.bench.runner import max_rps_at_sla

    points = [
        _point(concurrency=1, throughput_rps=40.0, p95_ms=12.0),
        _point(concurrency=4, throughput_rps=120.0, p95_ms=35.0),
        _point(concurrency=8, throughput_rps=150.0, p95_ms=49.9, sent=1000, completed=999, errors=1),  # 0.1% errors: allowed
        _point(concurrency=16, throughput_rps=170.0, p95_ms=80.0),  # misses the SLA
        _point(concurrency=12, throughput_rps=160.0, p95_ms=45.0, sent=100, completed=95, errors=5),  # too many errors
        _point(mode="open-poisson", concurrency=None, target_rps=200, throughput_rps=165.0, p95_ms=40.0, lost=3),  # lost requests
    ]
    assert max_rps_at_sla(points, "p95", 50.0, 0.001) == 150.0
    assert max_rps_at_sla(points, "p95", 10.0, 0.001) is None


def test_arrival_schedules():
    import numpy as np

    from toolkit.bench.load import arrival_offsets

    constant = arrival_offsets(50, 2.0, "constant")
    assert len(constant) == 100 and constant[1] == pytest.approx(0.02)
    poisson = arrival_offsets(200, 30.0, "poisson", seed=1)
    assert abs(len(poisson) / 30.0 - 200) < 10  # mean rate within 5%
    gaps = np.diff(poisson)
    assert abs(gaps.std() / gaps.mean() - 1.0) < 0.1  # exponential gaps: coefficient of variation ≈ 1
    assert poisson == arrival_offsets(200, 30.0, "poisson", seed=1)


def test_profiles_are_merged_by_variant_machine_and_target(tmp_path):
    from toolkit.artifacts.common import MachineInfo, Measured, load_artifact
    from toolkit.artifacts.profiles import Profile, ProfilesFile
    from toolkit.bench.runner import BenchResult, write_profiles

    machine = MachineInfo(cpu_model="cpu", logical_cores=2)

    def prof(variant, rps):
        return Profile(variant=variant, machine=machine, target="pkg", sla_percentile="p95", sla_ms=50, points=[_point(throughput_rps=rps)],
                       max_rps_at_sla=rps, provenance=Measured(where="cpu, 2 cores"))

    out = tmp_path / "profiles.json"
    write_profiles(BenchResult(prof("onnx-int8", 10.0), "a" * 64), out)
    write_profiles(BenchResult(prof("onnx-fp32", 5.0), "a" * 64), out)
    write_profiles(BenchResult(prof("onnx-int8", 12.0), "a" * 64), out)  # replaces the first
    data = load_artifact(ProfilesFile, out)
    assert [(p.variant, p.max_rps_at_sla) for p in data.profiles] == [("onnx-fp32", 5.0), ("onnx-int8", 12.0)]
    _, warnings = write_profiles(BenchResult(prof("onnx-int8", 1.0), "b" * 64), out)
    assert warnings == [f"{out} was measured for another spec; its 2 profile(s) were replaced"]
    assert len(load_artifact(ProfilesFile, out).profiles) == 1


def test_target_that_is_neither_folder_url_nor_endpoint(tmp_path):
    from tests.conftest import EXAMPLE_SPEC

    result = run_cli("bench", "sagemaker:emb", "--sla", "p95:50")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: profiles.json needs the spec it was measured for"
    result = run_cli("bench", "nowhere", "--spec", EXAMPLE_SPEC)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: TARGET 'nowhere' is neither a folder, a Triton URL (http://host:port) nor sagemaker:<endpoint>"
    result = run_cli("bench", "x", "--sla", "p97:50")
    assert result.exit_code == 2 and "'p97:50' is not PERCENTILE:MS (e.g. p95:50)" in result.stderr


# ---- SageMaker ----------------------------------------------------------------------------------------
# No SageMaker endpoint can run here: botocore's Stubber stands in for the service and checks every
# request against the real API model (parameter names and types), returning recorded-shape responses.

def _sagemaker_clients(n_ok: int, n_fail: int = 0):
    import boto3
    from botocore.response import StreamingBody
    from botocore.stub import Stubber

    control = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    cs, rs = Stubber(control), Stubber(runtime)
    cs.add_response("describe_endpoint", {
        "EndpointName": "emb", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/emb", "EndpointConfigName": "emb-cfg",
        "EndpointStatus": "InService", "CreationTime": "2024-01-01T00:00:00Z", "LastModifiedTime": "2024-01-01T00:00:00Z"},
        {"EndpointName": "emb"})
    cs.add_response("describe_endpoint_config", {
        "EndpointConfigName": "emb-cfg", "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/emb-cfg",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.c7i.xlarge", "InitialInstanceCount": 1}],
        "CreationTime": "2024-01-01T00:00:00Z"}, {"EndpointConfigName": "emb-cfg"})
    body = json.dumps({"inputs": [{"name": "TEXT", "shape": [1, 1], "datatype": "BYTES", "data": ["hello world"]}],
                       "outputs": [{"name": "embedding"}]}).encode()
    expected = {"EndpointName": "emb", "ContentType": "application/json", "Accept": "application/json", "Body": body}
    reply = json.dumps({"model_name": "ensemble", "outputs": [{"name": "embedding", "datatype": "FP32", "shape": [1, 4], "data": [0.5] * 4}]}).encode()
    for _ in range(n_ok):
        rs.add_response("invoke_endpoint", {"Body": StreamingBody(io.BytesIO(reply), len(reply)), "ContentType": "application/json"}, expected)
    for _ in range(n_fail):
        rs.add_client_error("invoke_endpoint", service_error_code="ModelError", service_message="Received server error (500)",
                            http_status_code=424, expected_params=expected)
    cs.activate()
    rs.activate()
    return control, runtime, cs, rs


def test_sagemaker_endpoint_is_benchmarked_through_sagemaker_runtime(tmp_path):
    from tests.conftest import EXAMPLE_SPEC
    from toolkit.bench import BenchOptions, run_bench, write_profiles
    from toolkit.spec import load_spec

    texts = tmp_path / "texts.txt"
    texts.write_text("hello world\n")
    control, runtime, cs, rs = _sagemaker_clients(n_ok=6)
    options = BenchOptions(concurrency=[1], duration_s=30, warmup_s=0, max_requests=6, texts=str(texts), variant="onnx-int8",
                           sla_percentile="p95", sla_ms=50)
    result = run_bench("sagemaker:emb", options, spec=load_spec(EXAMPLE_SPEC), sagemaker_client=runtime, sagemaker_control=control)
    rs.assert_no_pending_responses()
    cs.assert_no_pending_responses()
    prof = result.profile
    assert prof.machine.instance_type == "ml.c7i.xlarge" and prof.target == "sagemaker:emb"
    (point,) = prof.points
    assert (point.sent, point.completed, point.errors, point.lost) == (6, 6, 0, 0)
    assert point.p95_ms is not None and point.queue_ms is None
    assert "queue/compute time not measured" in prof.notes[0]
    path, _ = write_profiles(result, tmp_path / "profiles.json")
    assert json.loads(path.read_text())["profiles"][0]["machine"]["instance_type"] == "ml.c7i.xlarge"


def test_sagemaker_endpoint_that_fails_every_request_aborts_the_run(tmp_path):
    from tests.conftest import EXAMPLE_SPEC
    from toolkit.bench import BenchOptions, run_bench
    from toolkit.bench.load import TargetDown
    from toolkit.spec import load_spec

    texts = tmp_path / "texts.txt"
    texts.write_text("hello world\n")
    control, runtime, _, _ = _sagemaker_clients(n_ok=0, n_fail=6)
    options = BenchOptions(concurrency=[1], duration_s=30, warmup_s=0, max_requests=6, texts=str(texts), variant="onnx-int8")
    started = time.monotonic()
    with pytest.raises(TargetDown) as info:
        run_bench("sagemaker:emb", options, spec=load_spec(EXAMPLE_SPEC), sagemaker_client=runtime, sagemaker_control=control)
    assert time.monotonic() - started < 10
    assert str(info.value).startswith("bench aborted at concurrency 1: 5 requests failed in the last 2 s and none succeeded (5 of 5 requests failed; last error:")
    assert "ModelError" in str(info.value)


# ---- a real Triton ------------------------------------------------------------------------------------

@pytest.mark.integration
def test_bench_a_package_folder_writes_profiles(tiny_package, tmp_path):
    from toolkit.artifacts.common import load_artifact
    from toolkit.artifacts.profiles import ProfilesFile

    out = tmp_path / "profiles.json"
    result = run_cli("bench", tiny_package, "--concurrency", "1,4", "--duration", "1.5", "--warmup", "0.5", "--out", out)
    assert result.exit_code == 0, result.output
    assert "max rate with p95 ≤ 50 ms:" in result.stdout and f"wrote {out}" in result.stdout
    (prof,) = load_artifact(ProfilesFile, out).profiles
    assert prof.variant == "onnx-fp32" and prof.target == str(tiny_package) and prof.batching is True
    assert prof.provenance.source == "measured" and prof.machine.logical_cores >= 1
    assert [p.concurrency for p in prof.points] == [1, 4]
    for p in prof.points:
        assert p.completed > 0 and p.errors == 0 and p.lost == 0 and p.sent == p.completed
        assert p.p50_ms <= p.p90_ms <= p.p95_ms <= p.p99_ms
        assert p.queue_ms is not None and p.compute_ms is not None and p.mean_batch_size >= 1.0  # read from Triton's /metrics
        assert p.generator_overhead_ms > 0
    held = [p.throughput_rps for p in prof.points if p.p95_ms <= 50]
    assert prof.max_rps_at_sla == (max(held) if held else None)
    assert prof.saturation_rps == max(p.throughput_rps for p in prof.points)


@pytest.mark.integration
def test_killing_the_server_mid_bench_fails_fast(tiny, tiny_package, tmp_path):
    from toolkit.serve import ServeOptions, TritonServer

    out = tmp_path / "profiles.json"
    with TritonServer.start(tiny_package, ServeOptions()) as server:
        cmd = [sys.executable, "-m", "toolkit", "bench", server.http_url, "--variant", "onnx-fp32", "--spec", str(tiny["spec"]),
               "--concurrency", "4", "--duration", "60", "--warmup", "0", "--out", str(out)]
        bench = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4)  # the bench is under way
        assert bench.poll() is None
        server.proc.kill()  # SIGKILL the tritonserver process
        killed = time.monotonic()
        try:
            _, stderr = bench.communicate(timeout=30)
        finally:
            if bench.poll() is None:
                bench.kill()
        took = time.monotonic() - killed
    assert bench.returncode == 1, stderr
    assert took < 15, f"bench took {took:.1f} s to notice"
    line = next(ln for ln in stderr.splitlines() if ln.startswith("error:"))
    assert line.startswith("error: bench aborted at concurrency 4: ") and "requests failed" in line
    assert not out.exists()  # nothing half-written


def test_a_corrupt_profiles_file_is_reported_before_any_load(tmp_path):
    from tests.conftest import EXAMPLE_SPEC

    out = tmp_path / "profiles.json"
    out.write_text("{not json")
    result = run_cli("bench", "http://127.0.0.1:9", "--spec", EXAMPLE_SPEC, "--variant", "x", "--out", out)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"error: {out}: not valid JSON (line 1): Expecting property name enclosed in double quotes"
