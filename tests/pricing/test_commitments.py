"""Purchase options in the catalog: Savings Plans rates and spot interruption bands, their refresh through
botocore's Stubber (offline), and `prices show --purchase`.

The Savings Plans and spot responses are built here with the field names, nesting and string-typed numbers of
botocore's service models (savingsplans DescribeSavingsPlansOfferingRates, ec2 DescribeSpotPriceHistory); the
Stubber validates every response against those models. The rates in them are test values, not AWS prices.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date, datetime, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber

from tests.conftest import run_cli
from tests.pricing.test_refresh import (
    SAGEMAKER_PAGES,
    expect_sagemaker,
    only_ec2,
    pricing_client,
)
from toolkit.errors import InputError
from toolkit.pricing import PriceNotFound, load_catalog
from toolkit.pricing import refresh_commitments as rc
from toolkit.pricing.commitments import BANDS, hazard_per_instance_hour
from toolkit.pricing.refresh import ec2_query, refresh_prices
from toolkit.pricing.rows import DATA_DIR, SAVINGS_PLANS_API, SPOT_API

TODAY = date(2026, 11, 29)
DURATION = {"1yr": 31536000, "3yr": 94608000}


def quiet(**kw):
    return load_catalog(today=kw.pop("today", TODAY), warn=lambda m: None, **kw)


def client(service: str, region: str = "us-east-1"):
    # Stubber answers before any request is signed or sent: the dummy keys never leave the process.
    return boto3.client(service, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


def offering_rate(usage: str, rate: str, *, plan: str = "SageMaker", term: str = "1yr", payment: str = "No Upfront",
                  service: str = "AmazonSageMaker", operation: str = "RunInstance", instance: str = "", unit: str = "Hrs") -> dict:
    """One DescribeSavingsPlansOfferingRates searchResults entry."""
    product = {"AmazonSageMaker": "SageMaker", "AmazonEC2": "EC2"}[service]
    props = [{"name": "region", "value": "us-east-1"}] + ([{"name": "instanceType", "value": instance}] if instance else [])
    return {
        "savingsPlanOffering": {"offeringId": "5d2a3e0f-1b7c-4c1e-9a57-1f0e2d3c4b5a", "paymentOption": payment, "planType": plan,
                                "durationSeconds": DURATION[term], "currency": "USD",
                                "planDescription": f"{term[0]} year {payment} {plan} Savings Plan"},
        "rate": rate, "unit": unit, "productType": product, "serviceCode": service, "usageType": usage,
        "operation": operation, "properties": props,
    }


SM_RATES = [
    offering_rate("USE1-Host:ml.g5.xlarge", "0.9858"),
    offering_rate("USE1-Host:ml.g5.xlarge", "0.6620", term="3yr", payment="All Upfront"),
    offering_rate("USE1-Host:ml.g5.xlarge", "0.9400", payment="Partial Upfront"),
    offering_rate("USE1-Train:ml.g5.xlarge", "0.9000"),  # training usage: another component
    offering_rate("USE1-Host:ml.zz9.xlarge", "1.0000"),  # no hardware facts: skipped
    offering_rate("USE1-Host:ml.c5.xlarge", "0.0000"),  # a zero rate is not a rate
]
EC2_RATES = [
    offering_rate("BoxUsage:g5.xlarge", "0.6540", plan="EC2Instance", service="AmazonEC2", operation="RunInstances", instance="g5.xlarge"),
    offering_rate("BoxUsage:g5.xlarge", "0.9000", plan="EC2Instance", service="AmazonEC2", operation="RunInstances:0002", instance="g5.xlarge"),
]


def spot_page(*entries) -> dict:
    return {"SpotPriceHistory": [{"AvailabilityZone": z, "InstanceType": t, "ProductDescription": "Linux/UNIX", "SpotPrice": p,
                                  "Timestamp": datetime(2026, 11, 28, h, tzinfo=timezone.utc)} for (t, z, p, h) in entries]}


def expect_commitments(sp: Stubber, ec2: Stubber, ec2_types: list[str]) -> None:
    first = rc.sagemaker_rates_query("us-east-1")
    sp.add_response("describe_savings_plans_offering_rates", {"searchResults": SM_RATES[:3], "nextToken": "page-2"}, first)
    sp.add_response("describe_savings_plans_offering_rates", {"searchResults": SM_RATES[3:]}, {**first, "nextToken": "page-2"})
    sp.add_response("describe_savings_plans_offering_rates", {"searchResults": EC2_RATES}, rc.ec2_rates_query("us-east-1", ec2_types))
    ec2.add_response("describe_spot_price_history", spot_page(
        ("g5.xlarge", "us-east-1a", "0.4100", 1), ("g5.xlarge", "us-east-1a", "0.3900", 5),  # newest of a zone wins
        ("g5.xlarge", "us-east-1b", "0.4000", 3)), {"InstanceTypes": ec2_types, "ProductDescriptions": ["Linux/UNIX"], "StartTime": ANY})


def refreshed(monkeypatch, ec2_types=("g5.xlarge",)):
    only_ec2(monkeypatch, list(ec2_types))
    pricing, sp, ec2 = pricing_client(), client("savingsplans"), client("ec2")
    with Stubber(pricing) as ps, Stubber(sp) as ss, Stubber(ec2) as es:
        expect_sagemaker(ps, "us-east-1", SAGEMAKER_PAGES)
        for t in ec2_types:
            ps.add_response("get_products", {"PriceList": [], "FormatVersion": "aws_v1"},
                            {"ServiceCode": "AmazonEC2", "Filters": ec2_query("us-east-1", t), "FormatVersion": "aws_v1"})
        expect_commitments(ss, es, list(ec2_types))
        result = refresh_prices(["us-east-1"], client=pricing, today="2026-11-28", commitment_clients=rc.Clients(sp, lambda r: ec2))
        for s in (ps, ss, es):
            s.assert_no_pending_responses()
    return result


# ---- the snapshot ----------------------------------------------------------------------------------------------
def test_snapshot_bands_are_cited_labelled_estimates():
    cat = quiet()
    with open(DATA_DIR / "spot_interruptions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 300
    for r in rows:
        assert r["band"] in BANDS and r["confidence"] == "low" and "spot-advisor-data.json" in r["sources"]
        assert cat.instance(r["instance_type"]).platform == "kubernetes"
    band = cat.interruption_rate("g5.xlarge", "us-east-1")
    assert (band.label, band.estimate, band.confidence, band.as_of) == (">20%", True, "low", "2025-06-28")
    assert band.monthly_fraction == 0.25 and band.per_instance_hour == pytest.approx(-math.log(0.75) / 730)
    assert band.row_source.startswith("alexei-led/spotinfo")


def test_snapshot_savings_plan_rows_are_cited_and_below_on_demand():
    """The snapshot holds no rate it could not cite (none, today); any row added later must cite and discount."""
    cat = quiet()
    with open(DATA_DIR / "savings_plan_rates.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        q = cat.savings_plan_rate(r["instance_type"], r["region"], r["term"], r["payment"], r["plan"])
        assert r["sources"] and q.discount is not None and 0 < q.discount < 1


def test_family_band_is_the_upper_median_of_its_sizes():
    cat = quiet()
    fam = cat.interruption_rate("g5", "us-east-1")
    assert fam.label == ">20%" and "upper median of 8 sizes" in fam.basis and "10-15%: 1" in fam.basis
    inf2 = cat.interruption_rate("inf2", "us-east-1")
    assert inf2.label == "<5%"  # <5%, <5%, <5%, 5-10%: the upper of the two middle bands is still <5%
    fallback = cat.interruption_rate("p5.4xlarge", "us-east-1")  # no advisor row for this size
    assert fallback.label == ">20%" and fallback.basis.startswith("no advisor row for p5.4xlarge in us-east-1; family p5")


def test_missing_band_and_bad_names():
    cat = quiet()
    with pytest.raises(PriceNotFound, match=r"no spot interruption band for g5 in mars-1 \(regions with a band: ap-northeast-1"):
        cat.interruption_rate("g5", "mars-1")
    with pytest.raises(InputError, match=r"unknown instance type 'g5.xlarg'; did you mean 'g5.xlarge'\?"):
        cat.interruption_rate("g5.xlarg")
    assert hazard_per_instance_hour(0.0) == 0.0
    with pytest.raises(InputError, match="monthly interruption fraction must be in"):
        hazard_per_instance_hour(1.0)


def test_no_savings_plan_rate_is_never_an_invented_discount():
    cat = quiet()
    with pytest.raises(PriceNotFound) as err:
        cat.savings_plan_rate("ml.g5.xlarge", "us-east-1")
    assert err.value.message == ("no 1yr no-upfront sagemaker Savings Plans rate for ml.g5.xlarge in us-east-1 "
                                 "(the catalog has no Savings Plans rate for it)")
    assert "prices refresh" in err.value.hint and err.value.exit_code == 2
    with pytest.raises(InputError, match=r"unknown Savings Plans term '1y'; did you mean '1yr'\?"):
        cat.savings_plan_rate("ml.g5.xlarge", "us-east-1", term="1y")
    with pytest.raises(InputError, match=r"unknown Savings Plans payment option 'all upfront'; did you mean 'all-upfront'\?"):
        cat.savings_plan_rate("g5.xlarge", "us-east-1", payment="all upfront")


# ---- refresh ---------------------------------------------------------------------------------------------------
def test_refresh_fetches_rates_and_spot_prices_into_the_cache(monkeypatch, isolated_cache):
    result = refreshed(monkeypatch)
    assert result.ok, result.warnings
    assert {"savings_plan_rates.csv", "ec2_spot_prices.csv"} <= set(result.written)
    assert result.fetched["savings_plan_rates.csv"] == 4 and result.fetched["ec2_spot_prices.csv"] == 1
    cat = quiet()
    q = cat.savings_plan_rate("ml.g5.xlarge", "us-east-1")
    assert (q.usd_per_hour, q.plan, q.upfront_fraction, q.price.source, q.price.as_of) == (0.9858, "sagemaker", 0.0, SAVINGS_PLANS_API, "2026-11-28")
    assert q.on_demand.usd == 1.45 and q.discount == pytest.approx(1 - 0.9858 / 1.45)  # on-demand refreshed in the same run
    assert "usage type USE1-Host:ml.g5.xlarge" in q.price.row_source
    three = cat.savings_plan_rate("ml.g5.xlarge", "us-east-1", "3yr", "all-upfront")
    assert three.upfront_usd(2.0) == pytest.approx(2.0 * 26280) and three.monthly_split(2.0) == (0.0, pytest.approx(1460.0))
    partial = cat.savings_plan_rate("ml.g5.xlarge", "us-east-1", payment="partial-upfront")
    assert partial.upfront_fraction == 0.5 and sum(partial.monthly_split(1.0, 720)) == pytest.approx(720.0)
    with pytest.raises(PriceNotFound, match=r"\(the catalog has 1yr no-upfront, 1yr partial-upfront, 3yr all-upfront\)"):
        cat.savings_plan_rate("ml.g5.xlarge", "us-east-1", "3yr", "no-upfront")
    node = cat.savings_plan_rate("g5.xlarge", "us-east-1")  # the Linux rate; the Windows operation is ignored
    assert (node.plan, node.usd_per_hour) == ("ec2-instance", 0.654)
    spot = cat.ec2_price("g5.xlarge", "us-east-1", spot=True)
    assert (spot.usd, spot.source) == (0.39, SPOT_API) and "us-east-1a" in spot.row_source
    assert cat.ec2_price("c5.xlarge", "us-east-1", spot=True).source == "snapshot"  # not fetched: the snapshot's
    assert "savings plans: cache" in cat.source_note


def test_one_failing_api_warns_and_the_rest_is_written(monkeypatch, isolated_cache):
    only_ec2(monkeypatch, [])
    pricing, sp = pricing_client(), client("savingsplans")
    with Stubber(pricing) as ps, Stubber(sp) as ss:
        expect_sagemaker(ps, "us-east-1", SAGEMAKER_PAGES)
        ss.add_client_error("describe_savings_plans_offering_rates", service_error_code="AccessDeniedException",
                            service_message="denied", http_status_code=400,
                            expected_params=rc.sagemaker_rates_query("us-east-1"))
        result = refresh_prices(["us-east-1"], client=pricing, today="2026-11-28", commitment_clients=rc.Clients(sp, None))
    assert result.warnings[-1] == ("Savings Plans rates: the AWS credentials may not call the Savings Plans API "
                                   "(AccessDeniedException); none were written")
    assert "sagemaker_hosting.csv" in result.written and "savings_plan_rates.csv" not in result.written
    assert not (isolated_cache / "savings_plan_rates.csv").exists()


def test_parse_rate_keeps_only_hourly_usd_rates_of_known_types():
    known = {"ml.g5.xlarge"}
    assert rc.parse_rate(SM_RATES[0], "us-east-1", known, "2026-11-28").usd_per_hour == 0.9858
    assert rc.parse_rate(SM_RATES[3], "us-east-1", known, "2026-11-28") is None  # training
    assert rc.parse_rate(offering_rate("USE1-Host:ml.g5.xlarge", "1", unit="Request"), "us-east-1", known, "x") is None
    odd = offering_rate("USE1-Host:ml.g5.xlarge", "0.9")
    odd["savingsPlanOffering"]["durationSeconds"] = 12345
    assert rc.parse_rate(odd, "us-east-1", known, "x") is None


# ---- prices show --purchase ------------------------------------------------------------------------------------
def test_prices_show_purchase_filters_the_rows(monkeypatch, isolated_cache):
    spot = json.loads(run_cli("--json", "prices", "show", "--platform", "kubernetes", "--region", "us-east-1", "--purchase", "spot").stdout)
    assert spot["prices"] and {r["purchase"] for r in spot["prices"]} == {"spot"}
    od = json.loads(run_cli("--json", "prices", "show", "--region", "us-east-1", "--purchase", "on-demand").stdout)["prices"]
    assert {r["purchase"] for r in od} == {"on-demand"} and any(r["item"] == "endpoint-storage" for r in od)
    none = run_cli("--json", "prices", "show", "--purchase", "savings-plan")
    assert none.exit_code == 0 and json.loads(none.stdout)["prices"] == []
    refreshed(monkeypatch)
    rows = json.loads(run_cli("--json", "prices", "show", "--instance-type", "ml.g5.xlarge", "--purchase", "savings-plan").stdout)["prices"]
    assert [(r["term"], r["payment"], r["usd"]) for r in rows] == [("1yr", "no-upfront", 0.9858), ("1yr", "partial-upfront", 0.94),
                                                                   ("3yr", "all-upfront", 0.662)]
    table = run_cli("prices", "show", "--instance-type", "ml.g5.xlarge", "--purchase", "savings-plan").stdout
    assert "hour savings-plan 3yr all-upfront" in table


def test_prices_show_unknown_purchase_exits_2_with_the_choices():
    result = run_cli("prices", "show", "--purchase", "reserved")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == ("error: Invalid value for '--purchase': 'reserved' is not one of "
                                             "'on-demand', 'savings-plan', 'spot'.")
    with pytest.raises(InputError, match=r"unknown purchase option 'spott'; did you mean 'spot'\?"):
        quiet().price_rows(purchase="spott")
