"""The embedded catalog: lookups match the seed snapshot, every price says its source and age."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from toolkit.artifacts.plan import PriceRef
from toolkit.errors import InputError
from toolkit.pricing import PriceNotFound, load_catalog
from toolkit.pricing.catalog import short_source
from toolkit.pricing.hardware import accelerator_peaks, cpu_peaks, families

TODAY = date(2026, 11, 20)
SEED = ROOT.parent / "shared" / "data" / "pricing"


def quiet_catalog(**kw):
    seen: list[str] = []
    return load_catalog(today=kw.pop("today", TODAY), warn=seen.append, **kw), seen


# ---- the CLI first, as a user meets it ----------------------------------------------------------
def test_prices_show_json_states_source_and_age_of_each_price():
    result = run_cli("--json", "prices", "show", "--region", "us-east-1", "--platform", "sagemaker-realtime")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "snapshot of 2026-11-01" in data["source_note"]
    rows = {r["instance_type"]: r for r in data["prices"] if r["item"] == "instance-hour"}
    assert rows["ml.g5.xlarge"]["usd"] == 1.4084 and rows["ml.c5.xlarge"]["usd"] == 0.204
    for row in data["prices"]:
        assert row["source"] in ("snapshot", "aws-price-list-api")
        assert row["row_source"] and row["as_of"] and isinstance(row["age_days"], float)
        assert row["confidence"] in ("high", "medium", "low")


def test_prices_show_unknown_instance_type_suggests_the_closest():
    result = run_cli("prices", "show", "--instance-type", "ml.g5.xlarg")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: unknown instance type 'ml.g5.xlarg'; did you mean 'ml.g5.xlarge'?"
    assert result.stderr.splitlines()[1].startswith("hint: SageMaker names start with 'ml.'")


def test_prices_show_ec2_name_for_sagemaker_suggests_the_ml_name():
    with pytest.raises(InputError, match=r"unknown instance type 'c5.xlarg'; did you mean 'c5.xlarge'\?"):
        quiet_catalog()[0].instance("c5.xlarg")
    with pytest.raises(InputError, match=r"did you mean 'ml.t2.medium'\?"):
        quiet_catalog()[0].instance("t2.medium")


def test_prices_show_table_lists_hardware_and_source():
    result = run_cli("prices", "show", "--instance-type", "ml.g5.xlarge")
    assert result.exit_code == 0, result.output
    assert "1.4084" in result.stdout and "A10G" in result.stdout and "snapshot" in result.stdout


# ---- lookups ------------------------------------------------------------------------------------
def test_lookups_match_the_snapshot():
    cat, _ = quiet_catalog()
    g5 = cat.hosting_price("ml.g5.xlarge", "us-east-1")
    assert (g5.usd, g5.unit, g5.source, g5.confidence) == (1.4084, "hour", "snapshot", "high")
    assert cat.hosting_price("ml.c5.xlarge", "us-east-1").usd == 0.204
    assert g5.as_of == "2026-11-01" and g5.age_days == 19.0
    assert cat.ec2_price("g5.xlarge", "us-east-1").usd == 1.006
    assert cat.ec2_price("g5.xlarge", "us-east-1", spot=True).confidence == "low"
    rates = cat.serverless_rates("us-east-1")
    assert (rates.usd_per_gb_second.usd, rates.usd_per_gb_second.unit) == (0.00002, "GB-second")
    assert (rates.usd_per_gb_processed.usd, rates.usd_per_gb_processed.unit) == (0.016, "GB")
    assert (cat.storage_price("us-east-1").usd, cat.storage_price("eu-west-1").usd) == (0.14, 0.154)


def test_lookups_agree_with_every_seed_row():
    if not SEED.exists():
        pytest.skip("seed folder ../shared/data/pricing is not present")
    cat, _ = quiet_catalog()
    with open(SEED / "aws_sagemaker_hosting.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            q = cat.hosting_price(r["instance_type"], r["region"])
            assert (q.usd, q.confidence) == (float(r["usd_per_hour"]), r["confidence"])
    with open(SEED / "aws_ec2_vms.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            assert cat.ec2_price(r["InstanceType"], r["Region"]).usd == float(r["Price"])


def test_instance_hardware_facts():
    cat, _ = quiet_catalog()
    g5 = cat.instance("ml.g5.xlarge")
    assert (g5.platform, g5.family, g5.vcpus, g5.memory_gib, g5.accelerator, g5.accelerator_count) == ("sagemaker-realtime", "g5", 4, 16.0, "A10G", 1.0)
    assert g5.accelerator_memory_gib == pytest.approx(22.35)
    assert cat.instance("ml.c7i.xlarge").cpu_isa == ["avx2", "fma", "avx512", "vnni", "amx"]
    assert cat.instance("ml.c5.xlarge").accelerator is None
    assert cat.instance("inf2.xlarge").accelerator == "inferentia2"
    assert cat.instance("p4de.24xlarge").accelerator_key == "A100-80GB"


def test_instance_types_and_regions_per_platform():
    cat, _ = quiet_catalog()
    sm = [i.name for i in cat.instance_types("sagemaker-realtime", "us-east-1")]
    assert len(sm) == 43 and all(n.startswith("ml.") for n in sm)
    k8s = [i.name for i in cat.instance_types("kubernetes", "eu-west-1")]
    assert k8s and not any(n.startswith("ml.") for n in k8s)
    assert cat.instance_types("sagemaker-serverless", "us-east-1") == []
    assert cat.regions("sagemaker-serverless") == ["us-east-1"]
    assert set(cat.regions("sagemaker-realtime")) == {"us-east-1", "us-east-2", "us-west-2", "eu-west-1"}
    assert len(cat.regions("kubernetes")) == 7
    with pytest.raises(InputError, match=r"unknown platform 'sagemaker'; did you mean 'sagemaker-realtime'\?"):
        cat.regions("sagemaker")


def test_price_missing_in_region_names_the_priced_regions():
    cat, _ = quiet_catalog()
    with pytest.raises(PriceNotFound) as exc:
        cat.hosting_price("ml.g6e.xlarge", "eu-west-1")
    assert exc.value.message == "no SageMaker real-time price for ml.g6e.xlarge in eu-west-1 (priced regions: us-east-1)"
    assert "prices refresh --region eu-west-1" in exc.value.hint
    with pytest.raises(PriceNotFound, match="no serverless-compute price in eu-west-1"):
        cat.serverless_rates("eu-west-1")


def test_quote_becomes_a_plan_price_ref():
    cat, _ = quiet_catalog()
    ref = cat.hosting_price("ml.c5.xlarge", "us-east-1").ref("sagemaker-hosting ml.c5.xlarge us-east-1")
    assert isinstance(ref, PriceRef)
    assert ref.usd == 0.204 and ref.unit == "hour" and ref.confidence == "high" and ref.as_of == "2026-11-01"
    assert ref.source.startswith("snapshot: docs.aws.amazon.com/sagemaker")


def test_short_source_names_repositories_and_hosts():
    text = ("aws-samples/foo:src/x.py@88cf86c0;https://docs.aws.amazon.com/sagemaker/latest/dg/page.html;"
            "unattributed public code (quotes a; b);unattributed public code (other)")
    assert short_source(text) == "aws-samples/foo, docs.aws.amazon.com/sagemaker/latest/dg/page.html, unattributed quote"


# ---- staleness ------------------------------------------------------------------------------------
def test_old_prices_warn_once_with_source_and_age():
    cat, seen = quiet_catalog(today=date(2027, 1, 15))
    cat.hosting_price("ml.g5.xlarge", "us-east-1")
    cat.hosting_price("ml.c5.xlarge", "us-east-1")
    assert seen == ["SageMaker real-time prices come from the snapshot of 2026-11-01, 75 days old (older than 30); "
                    "run `leanserve prices refresh` with AWS credentials to update them, or set LEANSERVE_PRICE_MAX_AGE_DAYS "
                    "to accept older prices"]
    cat.ec2_price("c5.xlarge", "us-east-1")
    assert "EC2 prices come from the snapshot of 2026-06-03" in seen[-1]
    cat.ec2_price("g5.xlarge", "us-east-1")
    assert "EC2 prices come from the snapshot of 2025-09-01" in seen[-1]


def test_serverless_compute_and_data_warn_once_between_them():
    cat, seen = quiet_catalog(today=date(2027, 1, 15))
    cat.serverless_rates("us-east-1")
    assert [m for m in seen if m.startswith("SageMaker serverless")] == [seen[0]]
    assert len(seen) == 1


def test_the_staleness_threshold_is_a_setting(monkeypatch):
    """LEANSERVE_PRICE_MAX_AGE_DAYS moves the threshold: 75-day-old prices pass at 90, 19-day-old ones warn at 10."""
    from toolkit.pricing.catalog import MAX_AGE_ENV, STALE_AFTER_DAYS, stale_after_days

    assert MAX_AGE_ENV == "LEANSERVE_PRICE_MAX_AGE_DAYS" and stale_after_days() == STALE_AFTER_DAYS == 30
    monkeypatch.setenv(MAX_AGE_ENV, "90")
    cat, seen = quiet_catalog(today=date(2027, 1, 15))
    cat.hosting_price("ml.g5.xlarge", "us-east-1")
    assert seen == [] and stale_after_days() == 90
    monkeypatch.setenv(MAX_AGE_ENV, "10")
    cat, seen = quiet_catalog()  # 2026-11-20: the snapshot of 2026-11-01 is 19 days old
    cat.hosting_price("ml.g5.xlarge", "us-east-1")
    assert len(seen) == 1 and "19 days old (older than 10)" in seen[0]


def test_a_bad_staleness_setting_is_bad_input(monkeypatch):
    from toolkit.pricing.catalog import stale_after_days

    for bad in ("thirty", "-1", "1.5"):
        monkeypatch.setenv("LEANSERVE_PRICE_MAX_AGE_DAYS", bad)
        with pytest.raises(InputError, match=f"LEANSERVE_PRICE_MAX_AGE_DAYS='{bad}' is not a whole number of days"):
            stale_after_days()
    result = run_cli("prices", "show", "--region", "us-east-1")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: LEANSERVE_PRICE_MAX_AGE_DAYS='1.5' is not a whole number of days"


def test_fresh_prices_do_not_warn():
    cat, seen = quiet_catalog(today=date(2026, 11, 10))
    cat.hosting_price("ml.g5.xlarge", "us-east-1")
    cat.storage_price("us-east-1")
    assert seen == []


# ---- cache overlay --------------------------------------------------------------------------------
def _write_cache(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_fresher_cache_row_wins_and_the_rest_stays_from_the_snapshot(isolated_cache):
    _write_cache(isolated_cache, "sagemaker_hosting.csv",
                 "instance_type,region,usd_per_hour,source,sources,as_of,confidence\n"
                 "ml.g5.xlarge,us-east-1,1.5,aws-price-list-api,aws-price-list-api SKU X,2026-11-15,high\n"
                 "ml.c5.xlarge,us-east-1,9.9,aws-price-list-api,old row,2026-01-01,high\n")
    cat, _ = quiet_catalog()
    g5 = cat.hosting_price("ml.g5.xlarge", "us-east-1")
    assert (g5.usd, g5.source, g5.age_days) == (1.5, "aws-price-list-api", 5.0)
    assert cat.hosting_price("ml.c5.xlarge", "us-east-1").usd == 0.204  # the snapshot is fresher than that row
    assert cat.hosting_price("ml.m5.xlarge", "us-east-1").source == "snapshot"
    assert "your edited copy" in cat.source_note and "1 rows used" in cat.source_note


def test_unreadable_cache_file_falls_back_to_the_snapshot_with_a_warning(isolated_cache):
    _write_cache(isolated_cache, "sagemaker_hosting.csv", "instance_type,region\nml.g5.xlarge,us-east-1\n")
    cat, seen = quiet_catalog()
    assert cat.hosting_price("ml.g5.xlarge", "us-east-1").usd == 1.4084
    assert seen[0].startswith(f"ignoring the cached price file {isolated_cache / 'sagemaker_hosting.csv'}: ")
    assert "missing column(s) usd_per_hour" in seen[0]


# ---- the tables behind the model --------------------------------------------------------------------
def test_every_family_has_peak_figures_with_sources():
    cat, _ = quiet_catalog()
    fams, cpus, accs = families(), cpu_peaks(), accelerator_peaks()
    for info in cat.all_instances():
        fam = fams[info.family]
        assert fam.cpu in cpus and fam.sources
        assert info.cpu_isa, info.name
        if info.accelerator:
            assert fam.accelerator_peaks in accs, info.name
    assert all(r.sources and r.confidence in ("high", "medium", "low") for r in [*cpus.values(), *accs.values()])


def test_embedded_data_is_what_the_build_script_writes():
    if not SEED.exists():
        pytest.skip("seed folder ../shared/data/pricing is not present")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "scripts/build_catalog.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_cpu_node_prices_come_from_the_newer_catalog_commit():
    """Issue 21, item 17: the EC2 CPU node rows are refreshed from a newer SkyPilot catalog commit (data of 2026-06-03
    or later), each row citing it; the GPU rows, with no newer figure read, keep the seed's source and date."""
    cat, _ = quiet_catalog(today=date(2026, 12, 2))
    newer = "skypilot-org/skypilot-catalog:catalogs/v9/aws/vms.csv@2c3d7ea7d76bf84cf80d382e946c1609571485fd"
    rows = {(r["instance_type"], r["region"]): r for r in csv.DictReader((ROOT / "toolkit/data/ec2_prices.csv").open())}
    cpu = {k: r for k, r in rows.items() if k[0].split(".")[0] in ("c5", "c7i", "m6i")}
    assert len(cpu) == 99 and all(r["as_of"] == "2026-06-03" and r["sources"] == newer for r in cpu.values())
    assert all(r["as_of"] == "2025-09-01" for k, r in rows.items() if k not in cpu)
    q = cat.ec2_price("c7i.large", "us-east-1")
    assert (q.usd, q.as_of, q.age_days, q.row_source) == (0.08925, "2026-06-03", 182.0, "skypilot-org/skypilot-catalog")
    spot = cat.ec2_price("c7i.large", "us-east-1", spot=True)
    assert (spot.usd, spot.as_of) == (0.0252, "2026-06-03") and "use1-az5" in spot.row_source
    meta = json.loads((ROOT / "toolkit/data/SNAPSHOT.json").read_text())["datasets"]["ec2"]
    assert meta["rows_by_as_of"] == {"2025-09-01": 321, "2026-06-03": 99}


def test_the_overlay_replaces_only_seed_rows(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_catalog", ROOT / "scripts" / "build_catalog.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    (tmp_path / "aws_ec2_vms.csv").write_text("InstanceType,vCPUs,MemoryGiB,Price,SpotPrice,Region,AvailabilityZone\n"
                                              "c5.large,2.0,4.0,0.085,0.02,sa-east-1,sae1-az1\n")
    with pytest.raises(SystemExit, match="not in the seed"):
        build.overlay_ec2([], {}, tmp_path)


def test_prices_show_unknown_region_suggests_the_closest():
    result = run_cli("prices", "show", "--region", "us-east1")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == "error: no prices for region 'us-east1'; did you mean 'us-east-1'?"
