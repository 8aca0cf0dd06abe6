"""Performance model: from a variant's measured latency (or a bench profile) to capacity per instance type.

    from toolkit.perf import estimate_capacity, traffic_lengths
    est = estimate_capacity(variant, catalog.instance("ml.c7i.xlarge"), "p95", 50.0, profiles, machine,
                            seq_len=traffic_lengths(spec, profiles))
    est.max_rps_at_sla, est.low_rps, est.high_rps, est.provenance   # Measured(where=...) or Estimated(model, ±, band)
    est.lengths                                                      # which request lengths, from where

See docs/prices.md ("Performance model") for the equations and their assumptions.
"""

from toolkit.perf.capacity import CapacityEstimate, Exclusion, estimate_capacity, exclusion_reason
from toolkit.perf.hardware import instance_of_machine
from toolkit.perf.lengths import Lengths, traffic_lengths

__all__ = ["CapacityEstimate", "Exclusion", "Lengths", "estimate_capacity", "exclusion_reason", "instance_of_machine", "traffic_lengths"]
