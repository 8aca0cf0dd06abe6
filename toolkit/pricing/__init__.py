"""Price and hardware catalog: an embedded, dated snapshot plus a user cache refreshed from the AWS Price List API.

    from toolkit.pricing import load_catalog
    cat = load_catalog()
    cat.hosting_price("ml.g5.xlarge", "us-east-1").usd   # 1.4084 (USD per instance-hour)
"""

from toolkit.pricing.catalog import (
    Catalog,
    InstanceInfo,
    PriceNotFound,
    PriceQuote,
    ServerlessRates,
    load_catalog,
)

__all__ = ["Catalog", "InstanceInfo", "PriceNotFound", "PriceQuote", "ServerlessRates", "load_catalog"]
