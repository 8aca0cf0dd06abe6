"""`prices refresh`: the Pricing API through botocore's Stubber (offline), the cache, and every failure path."""

from __future__ import annotations

import json
from datetime import date

import boto3
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber

from tests.conftest import run_cli
from tests.pricing import pricelist_samples as S
from toolkit.pricing import load_catalog
from toolkit.pricing.pricelist import parse_item
from toolkit.pricing.refresh import ec2_query, refresh_prices, sagemaker_queries


def pricing_client():
    # Stubber answers before any request is signed or sent, so dummy keys never leave the process.
    return boto3.client("pricing", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


def only_ec2(monkeypatch, names: list[str]):
    """Limit the per-instance-type EC2 queries to a few types so the stubbed conversation stays short."""
    from toolkit.pricing import refresh as mod
    from toolkit.pricing.rows import InstanceRow

    real = mod.read_rows

    def fake(cls, text, where):
        rows = real(cls, text, where)
        if cls is InstanceRow:
            rows = [r for r in rows if r.platform == "sagemaker-realtime" or r.name in names]
        return rows

    monkeypatch.setattr(mod, "read_rows", fake)


def expect_sagemaker(stub: Stubber, region: str, pages: list[list[str]]):
    """One get_products call per SageMaker query; the first query (Hosting) is paginated over two pages."""
    queries = sagemaker_queries(region)
    hosting_pages, rest = pages[:2], pages[2:]
    stub.add_response("get_products", {"PriceList": hosting_pages[0], "FormatVersion": "aws_v1", "NextToken": "page-2"},
                      {"ServiceCode": "AmazonSageMaker", "Filters": queries[0], "FormatVersion": "aws_v1"})
    stub.add_response("get_products", {"PriceList": hosting_pages[1], "FormatVersion": "aws_v1"},
                      {"ServiceCode": "AmazonSageMaker", "Filters": queries[0], "FormatVersion": "aws_v1", "NextToken": "page-2"})
    for filters, items in zip(queries[1:], rest):
        stub.add_response("get_products", {"PriceList": items, "FormatVersion": "aws_v1"},
                          {"ServiceCode": "AmazonSageMaker", "Filters": filters, "FormatVersion": "aws_v1"})


SAGEMAKER_PAGES = [
    [S.hosting("ml.g5.xlarge", "1.4500000000"), S.hosting("ml.g5.xlarge", "1.2120000000", sku="NOTEBOOK00000001", component="Notebook"),
     S.hosting("ml.c5.xlarge", "0.2040000000", sku="TRAINING00000001", component="Training")],
    [S.hosting_tiered("ml.c5.xlarge", "0.2100000000", "0.1900000000"), S.hosting("ml.zz9.xlarge", "9.0000000000", sku="UNKNOWNTYPE00001")],
    [S.serverless(1, "0.0000200000", "SRVLESS1GB000001"), S.serverless(3, "0.0000600000", "SRVLESS3GB000001"),
     S.provisioned_concurrency(3, "PROVCONC3GB00001")],
    [S.data_bytes("In", "0.0160000000", "DATAIN0000000001"), S.data_bytes("Out", "0.0160000000", "DATAOUT000000001")],
    [S.storage("0.1400000000")],
]


def test_refresh_writes_the_cache_and_reading_prefers_it(monkeypatch, isolated_cache):
    only_ec2(monkeypatch, ["g5.xlarge"])
    client = pricing_client()
    with Stubber(client) as stub:
        expect_sagemaker(stub, "us-east-1", SAGEMAKER_PAGES)
        stub.add_response("get_products", {"PriceList": [S.ec2("g5.xlarge", "1.0060000000"), S.ec2("g5.xlarge", "1.5", sku="WINDOWS000000001", os="Windows")],
                                           "FormatVersion": "aws_v1"},
                          {"ServiceCode": "AmazonEC2", "Filters": ec2_query("us-east-1", "g5.xlarge"), "FormatVersion": "aws_v1"})
        result = refresh_prices(["us-east-1"], client=client, today="2026-11-28")
        stub.assert_no_pending_responses()
    assert result.ok and sorted(result.written) == ["ec2_prices.csv", "sagemaker_hosting.csv", "sagemaker_rates.csv"]
    assert result.fetched == {"sagemaker_hosting.csv": 2, "ec2_prices.csv": 1, "sagemaker_rates.csv": 3}
    assert any("ml.zz9.xlarge" in w for w in result.warnings)  # a type without hardware facts is skipped, and said so
    manifest = json.loads((isolated_cache / "manifest.json").read_text())
    assert manifest["files"]["sagemaker_hosting.csv"]["fetched_at"] == "2026-11-28"

    cat = load_catalog(today=date(2026, 11, 29), warn=lambda m: None)
    g5 = cat.hosting_price("ml.g5.xlarge", "us-east-1")
    assert (g5.usd, g5.source, g5.as_of, g5.age_days, g5.confidence) == (1.45, "aws-price-list-api", "2026-11-28", 1.0, "high")
    assert g5.row_source.startswith("aws-price-list-api SKU AAAAHOSTING00001")
    assert cat.hosting_price("ml.c5.xlarge", "us-east-1").usd == 0.21  # first tier of the tiered Hosting price; Training ignored
    assert cat.hosting_price("ml.m5.xlarge", "us-east-1").source == "snapshot"  # not fetched: still the snapshot
    rates = cat.serverless_rates("us-east-1")
    assert rates.usd_per_gb_second.usd == pytest.approx(0.00002) and rates.usd_per_gb_second.source == "aws-price-list-api"
    assert rates.usd_per_gb_processed.usd == 0.016 and cat.storage_price("us-east-1").usd == 0.14
    assert cat.ec2_price("g5.xlarge", "us-east-1").source == "aws-price-list-api"
    assert cat.ec2_price("g5.xlarge", "us-east-1", spot=True).source == "snapshot"  # spot is not in the Price List
    assert "AWS Price List API cache" in cat.source_note


def test_parser_ignores_what_is_not_a_kept_price():
    assert parse_item(S.hosting("ml.g5.xlarge", "1.2", component="Notebook"), "AmazonSageMaker") is None
    assert parse_item(S.provisioned_concurrency(2, "PC"), "AmazonSageMaker") is None
    assert parse_item(S.ec2("g5.xlarge", "1.5", os="Windows"), "AmazonEC2") is None
    assert parse_item("not json", "AmazonSageMaker") is None
    p = parse_item(S.serverless(4, "0.0000800000", "SKU4"), "AmazonSageMaker")
    assert (p.kind, p.usd, p.unit) == ("serverless-compute", pytest.approx(0.00002), "GB-second")
    assert parse_item(S.hosting("ml.g5.xlarge", "0.0000000000"), "AmazonSageMaker") is None  # a zero price is not a price


def test_user_edited_cache_file_is_never_overwritten(monkeypatch, isolated_cache):
    only_ec2(monkeypatch, [])
    client = pricing_client()
    with Stubber(client) as stub:
        expect_sagemaker(stub, "us-east-1", SAGEMAKER_PAGES)
        refresh_prices(["us-east-1"], client=client, today="2026-11-28")
    edited = isolated_cache / "sagemaker_hosting.csv"
    text = edited.read_text().replace("1.45,", "1.3,")
    edited.write_text(text)
    with Stubber(client) as stub:
        expect_sagemaker(stub, "us-east-1", SAGEMAKER_PAGES)
        result = refresh_prices(["us-east-1"], client=client, today="2026-11-29")
    assert edited.read_text() == text
    assert result.kept == ["sagemaker_hosting.csv"] and "sagemaker_rates.csv" in result.written
    assert result.warnings[-1] == f"kept your edited {edited} (delete it to accept refreshed prices)"
    cat = load_catalog(today=date(2026, 11, 29), warn=lambda m: None)
    assert cat.hosting_price("ml.g5.xlarge", "us-east-1").usd == 1.3
    assert "your edited copy" in cat.source_note


@pytest.mark.parametrize("code,expected", [
    ("ThrottlingException", "the Pricing API throttled the requests; try again in a minute"),
    ("AccessDeniedException", "the AWS credentials may not call pricing:GetProducts (AccessDeniedException)"),
])
def test_api_errors_warn_and_keep_the_snapshot(code, expected, isolated_cache):
    client = pricing_client()
    with Stubber(client) as stub:
        stub.add_client_error("get_products", service_error_code=code, service_message="Rate exceeded", http_status_code=400,
                              expected_params={"ServiceCode": "AmazonSageMaker", "Filters": ANY, "FormatVersion": "aws_v1"})
        result = refresh_prices(["us-east-1"], client=client)
    assert not result.ok and result.written == []
    assert result.warnings == [f"{expected}; nothing was written and the snapshot stays in use"]
    assert not isolated_cache.exists()
    assert load_catalog(warn=lambda m: None).hosting_price("ml.g5.xlarge", "us-east-1").source == "snapshot"


def test_network_error_warns_and_keeps_the_snapshot(isolated_cache):
    # a real client pointed at a closed local port: botocore's own connection error, no network needed
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing",
                          endpoint_url="http://127.0.0.1:9", config=Config(retries={"max_attempts": 1}, connect_timeout=2))
    result = refresh_prices(["us-east-1"], client=client)
    assert not result.ok
    assert result.warnings[0].startswith("could not reach the Pricing API (EndpointConnectionError")
    assert not isolated_cache.exists()


def test_cli_refresh_without_credentials_warns_and_exits_zero(isolated_cache):
    result = run_cli("prices", "refresh")
    assert result.exit_code == 0, result.output
    assert "no AWS credentials found" in result.stderr and "the snapshot stays in use" in result.stderr
    assert result.stdout.strip() == "nothing refreshed; the embedded snapshot stays in use"
    data = json.loads(run_cli("--json", "prices", "refresh").stdout)
    assert data["ok"] is False and data["written"] == []
