"""One exception hierarchy for Leanserve.

Every error carries a one-line ``message`` (what is wrong) and a ``hint`` (how to fix it). The CLI
prints both on stderr and exits with the error's ``exit_code``; tracebacks appear only with --debug.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes. Documented in README.md ("Exit codes")."""

    OK = 0
    FAILURE = 1  # a runtime failure: a server that did not start, a cloud call that failed
    BAD_INPUT = 2  # bad input or usage: a malformed spec, trace, artifact or option
    INFEASIBLE = 3  # nothing meets the SLA/budget (plan): nearest misses are printed
    GATE_FAILED = 4  # a CI gate tripped (e.g. report diff --fail-above)
    INTERRUPTED = 130  # Ctrl-C


class LeanserveError(Exception):
    """Base of all errors the user should see as a message, not a traceback."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(LeanserveError):
    """The user gave something malformed or out of range (exit 2)."""

    exit_code = ExitCode.BAD_INPUT


class SpecError(InputError):
    """leanserve.yaml is missing, not YAML, or does not match the schema."""


class TraceError(InputError):
    """A traffic trace CSV is malformed (gaps, unsorted, negative, non-numeric)."""


class ArtifactError(InputError):
    """An artifact file (variants.json, profiles.json, plan.json) is missing, corrupt or of an unknown version."""


class ModelError(InputError):
    """A model folder is not a model the tool can read or export."""


class MissingDependencyError(LeanserveError):
    """An optional extra is needed for this command and is not installed (exit 1)."""

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"this command needs the Python package '{package}', which is not installed",
            hint=f"install the extra: pip install 'leanserve[{extra}]'",
        )


class ExternalToolError(LeanserveError):
    """A real external component (tritonserver, Pulumi, AWS) failed or is unavailable (exit 1)."""


class InfeasibleError(LeanserveError):
    """No candidate meets the constraints (exit 3)."""

    exit_code = ExitCode.INFEASIBLE


class GateFailed(LeanserveError):
    """A CI gate tripped, e.g. a cost delta above --fail-above (exit 4)."""

    exit_code = ExitCode.GATE_FAILED


def require(module: str, extra: str):
    """Import an optional heavy module, or raise MissingDependencyError naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(module.split(".")[0], extra) from exc
