"""Load generation against a local repository, a Triton URL or a SageMaker endpoint, and profiles.json.

    from toolkit.bench import BenchOptions, run_bench
    result = run_bench("out/package", BenchOptions(concurrency=[1, 4, 16], duration_s=10))
    result.profile.max_rps_at_sla
"""

from toolkit.bench.runner import BenchOptions, BenchResult, run_bench, write_profiles

__all__ = ["BenchOptions", "BenchResult", "run_bench", "write_profiles"]
