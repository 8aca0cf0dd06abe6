"""PriceList entries shaped like the AWS Price List API's get_products answers (format aws_v1).

They are built here, not captured from AWS (no credentials or network in this environment), with the
field names, nesting and string-typed numbers that the API returns: ``product.attributes``, ``terms.
OnDemand.<sku>.<offerTermCode>.priceDimensions.<rateCode>`` with ``unit``, ``beginRange``, ``endRange``,
``pricePerUnit.USD`` and a human ``description``. Each entry is a JSON *string*, as in the API.
"""

from __future__ import annotations

import json

OFFER = "JRTCKXETXF"  # the on-demand offer term code AWS uses
LOCATIONS = {"us-east-1": ("US East (N. Virginia)", "USE1"), "eu-west-1": ("EU (Ireland)", "EU")}


def _dim(sku: str, rate: str, unit: str, usd: str, description: str, begin: str = "0", end: str = "Inf") -> tuple[str, dict]:
    code = f"{sku}.{OFFER}.{rate}"
    return code, {
        "unit": unit, "endRange": end, "description": description, "appliesTo": [], "rateCode": code,
        "beginRange": begin, "pricePerUnit": {"USD": usd},
    }


def _item(service: str, sku: str, family: str, attributes: dict, dims: list[tuple[str, dict]], reserved: bool = False) -> str:
    terms = {"OnDemand": {f"{sku}.{OFFER}": {
        "priceDimensions": dict(dims), "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
        "offerTermCode": OFFER, "termAttributes": {},
    }}}
    if reserved:  # Savings-plan-like reserved terms must not be mistaken for on-demand
        terms["Reserved"] = {f"{sku}.4NA7Y494T4": {"priceDimensions": dict([_dim(sku, "Q7UJUT2CE6", "Hrs", "0.5000000000", "reserved")]),
                                                   "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "4NA7Y494T4",
                                                   "termAttributes": {"LeaseContractLength": "1yr", "PurchaseOption": "No Upfront"}}}
    return json.dumps({
        "product": {"productFamily": family, "attributes": {"servicecode": service, **attributes}, "sku": sku},
        "serviceCode": service, "terms": terms, "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z",
    })


def hosting(instance: str, usd: str, region: str = "us-east-1", sku: str = "AAAAHOSTING00001", component: str = "Hosting") -> str:
    loc, prefix = LOCATIONS[region]
    kind = {"Hosting": "Host", "Notebook": "Notebook", "Training": "Train"}[component]
    attrs = {
        "location": loc, "locationType": "AWS Region", "instanceName": instance, "vCpu": "4", "memory": "16 GiB",
        "gpu": "1", "gpuMemory": "24 GB", "usagetype": f"{prefix}-{kind}:{instance}", "operation": "RunInstance",
        "regionCode": region, "component": component, "computeType": "GPU", "platoinstancetype": kind,
    }
    return _item("AmazonSageMaker", sku, "ML Instance", attrs, [
        _dim(sku, "6YS6EN2CT7", "Hrs", usd, f"${float(usd):g} per {component} {instance} hour in {loc}"),
    ], reserved=True)


def hosting_tiered(instance: str, first: str, second: str, sku: str = "AAAAHOSTTIER0001") -> str:
    """A Hosting product with two price dimensions (tiers); the first tier is the list price."""
    loc, prefix = LOCATIONS["us-east-1"]
    attrs = {"location": loc, "instanceName": instance, "usagetype": f"{prefix}-Host:{instance}", "operation": "RunInstance",
             "regionCode": "us-east-1", "component": "Hosting"}
    return _item("AmazonSageMaker", sku, "ML Instance", attrs, [
        _dim(sku, "TIER2CODE1", "Hrs", second, f"${float(second):g} per Hosting {instance} hour after 750 hours", begin="750"),
        _dim(sku, "TIER1CODE1", "Hrs", first, f"${float(first):g} per Hosting {instance} hour in {loc}", end="750"),
    ])


def serverless(gb: int, usd_per_second: str, sku: str) -> str:
    loc, prefix = LOCATIONS["us-east-1"]
    attrs = {"location": loc, "usagetype": f"{prefix}-ServerlessInf:Mem-{gb}GB", "operation": "InvokeEndpoint", "regionCode": "us-east-1",
             "platoinstancetype": "Serverless"}
    return _item("AmazonSageMaker", sku, "ML Serverless", attrs, [
        _dim(sku, "SRVLESS001", "Second", usd_per_second, f"${float(usd_per_second):g} per second of Serverless Inference with {gb}GB memory"),
    ])


def provisioned_concurrency(gb: int, sku: str) -> str:
    loc, prefix = LOCATIONS["us-east-1"]
    attrs = {"location": loc, "usagetype": f"{prefix}-ProvisionedConcurrency:Usage-{gb}GB", "group": "ServerlessProvisionedConcurrency-Usage",
             "regionCode": "us-east-1"}
    return _item("AmazonSageMaker", sku, "ML Serverless", attrs, [_dim(sku, "PROVCONC01", "Second", "0.0000048", "provisioned concurrency")])


def data_bytes(direction: str, usd: str, sku: str) -> str:
    loc, prefix = LOCATIONS["us-east-1"]
    attrs = {"location": loc, "usagetype": f"{prefix}-Data-Bytes-{direction}", "operation": "Invoke-Endpoint",
             "group": f"Hosting:{direction.upper()}", "regionCode": "us-east-1"}
    return _item("AmazonSageMaker", sku, "ML Data Processing", attrs, [_dim(sku, "DATABYTES1", "GB", usd, f"${float(usd):g} per GB Data {direction}")])


def storage(usd: str, sku: str = "AAAASTORAGE00001") -> str:
    loc, prefix = LOCATIONS["us-east-1"]
    attrs = {"location": loc, "usagetype": f"{prefix}-Host:VolumeUsage.gp2", "volumeType": "General Purpose-Hosting",
             "platoclassificationtype": "Host:VolumeUsage", "regionCode": "us-east-1"}
    return _item("AmazonSageMaker", sku, "Storage", attrs, [_dim(sku, "STORAGE001", "GB-Mo", usd, f"${float(usd):g} per GB-month of ML storage")])


def ec2(instance: str, usd: str, region: str = "us-east-1", sku: str = "BBBBEC2000000001", os: str = "Linux") -> str:
    loc, prefix = LOCATIONS[region]
    attrs = {
        "location": loc, "instanceType": instance, "instanceFamily": "GPU instance", "vcpu": "4", "memory": "16 GiB",
        "operatingSystem": os, "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
        "licenseModel": "No License required", "usagetype": f"{prefix}-BoxUsage:{instance}", "operation": "RunInstances",
        "regionCode": region,
    }
    return _item("AmazonEC2", sku, "Compute Instance", attrs, [
        _dim(sku, "6YS6EN2CT7", "Hrs", usd, f"${float(usd):g} per On Demand {os} {instance} Instance Hour"),
    ], reserved=True)
