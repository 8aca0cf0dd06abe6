"""`leanserve prices`: the price and hardware catalog (the command's name for :mod:`toolkit.pricing`).

This package is a face: it holds no code of its own. The entry point is :func:`load_catalog`
(``prices show``); :func:`refresh_prices` is what ``prices refresh`` runs::

    from toolkit.prices import load_catalog
    cat = load_catalog()
    cat.hosting_price("ml.g5.xlarge", "us-east-1").usd

The implementation lives in :mod:`toolkit.pricing` (``catalog.py`` reads the embedded snapshot in
``toolkit/data/`` plus the user cache, ``refresh.py`` fetches from the AWS Price List API); the CLI
command is ``toolkit/cli/prices_cmd.py``. Names are imported on first use.
"""

from __future__ import annotations

__all__ = ["Catalog", "load_catalog", "refresh_prices"]


def __getattr__(name: str):
    if name == "refresh_prices":
        from toolkit.pricing.refresh import refresh_prices

        return refresh_prices
    if name in __all__:
        import toolkit.pricing

        return getattr(toolkit.pricing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
