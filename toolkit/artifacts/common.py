"""Shared pieces of every artifact: the header, provenance labels, machine descriptions, save/load."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, ClassVar, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from toolkit import __version__
from toolkit.errors import ArtifactError
from toolkit.fileio import atomic_write_text, read_text
from toolkit.validation import describe_validation_error


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measured(_Model):
    """A number measured on a real machine."""

    source: Literal["measured"] = "measured"
    where: str = Field(description="What it was measured on: a CPU model and core count, or an instance type.", examples=["Intel Xeon 8488C, 2 cores"])


class Estimated(_Model):
    """A number computed by a model, with its relative uncertainty (± fraction, e.g. 0.3 = ±30%)."""

    source: Literal["estimated"] = "estimated"
    model: str = Field(description="The model that produced it.", examples=["roofline calibrated on local CPU"])
    uncertainty: float = Field(ge=0, description="Relative uncertainty band, ± fraction.", examples=[0.3])
    band: str | None = Field(default=None, description="How the uncertainty band was derived.",
                             examples=["leave-one-out error on 4 calibration points: 6.0%; transfer to sapphire-rapids: ×2"])


Provenance = Annotated[Union[Measured, Estimated], Field(discriminator="source")]


class MachineInfo(_Model):
    """What a measurement ran on."""

    cpu_model: str = Field(description="CPU model name.", examples=["Intel(R) Xeon(R) Platinum 8488C"])
    logical_cores: int = Field(ge=1)
    cpu_flags: list[str] = Field(default_factory=list, description="Relevant ISA flags: avx2, avx512f, avx512_vnni, amx_tile, ...")
    memory_gib: float | None = None
    os: str = ""
    instance_type: str | None = Field(default=None, description="Cloud instance type when known (e.g. ml.c7i.xlarge).")
    accelerator: str | None = Field(default=None, description="GPU or accelerator model, if any.")

    def describe(self) -> str:
        base = self.instance_type or f"{self.cpu_model}, {self.logical_cores} cores"
        return base + (f", {self.accelerator}" if self.accelerator else "")

    @classmethod
    def local(cls) -> "MachineInfo":
        """Describe this machine (Linux /proc; falls back to platform module elsewhere)."""
        model, flags = platform.processor() or platform.machine(), set()
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name") and model in ("", platform.machine(), platform.processor()):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
        except OSError:
            pass
        wanted = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8", "amx_bf16", "asimd", "sve"]
        mem = None
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemTotal"):
                    mem = round(int(line.split()[1]) / 1024 / 1024, 1)
                    break
        except OSError:
            pass
        return cls(
            cpu_model=model or "unknown",
            logical_cores=os.cpu_count() or 1,
            cpu_flags=[f for f in wanted if f in flags],
            memory_gib=mem,
            os=f"{platform.system()} {platform.release()}",
        )


class Artifact(_Model):
    """Base of every artifact file. Subclasses set KIND and SCHEMA_VERSION; one that still reads older files lists
    them in OLDER_VERSIONS and converts them in :meth:`upgrade` or in its before-validators (as PlanFile does)."""

    KIND: ClassVar[str] = "artifact"
    SCHEMA_VERSION: ClassVar[int] = 1
    OLDER_VERSIONS: ClassVar[tuple[int, ...]] = ()

    kind: str
    schema_version: int
    tool_version: str = Field(default=__version__, description="leanserve version that wrote the file.")
    spec_sha256: str = Field(description="sha256 of the normalised spec the file was made from.")
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def __init__(self, **data):
        data.setdefault("kind", self.KIND)
        data.setdefault("schema_version", self.SCHEMA_VERSION)
        super().__init__(**data)

    @classmethod
    def upgrade(cls, data: dict) -> dict:
        """The parsed JSON of a file of one of OLDER_VERSIONS, as a file of SCHEMA_VERSION (before validation)."""
        return {**data, "schema_version": cls.SCHEMA_VERSION}


A = TypeVar("A", bound=Artifact)


def save_artifact(artifact: Artifact, path: str | Path) -> Path:
    """Write an artifact as pretty JSON, atomically."""
    text = artifact.model_dump_json(indent=2) + "\n"
    return atomic_write_text(path, text)


def load_artifact(cls: type[A], path: str | Path) -> A:
    """Read an artifact of type ``cls``; refuse a different kind or an unknown schema version."""
    p = Path(path)
    if p.is_dir():
        p = p / f"{cls.KIND}.json"
    what = f"{cls.KIND}.json"
    text = read_text(p, what) if p.exists() else None
    if text is None:
        raise ArtifactError(f"{what} not found: {p}", hint="run the stage that writes it first (see `leanserve --help`)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{p}: not valid JSON (line {exc.lineno}): {exc.msg}", hint="the file is corrupt; rerun the stage that wrote it") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{p}: expected a JSON object", hint="rerun the stage that wrote it")
    kind = data.get("kind")
    if kind != cls.KIND:
        raise ArtifactError(f"{p}: this is a '{kind}' file, expected '{cls.KIND}'", hint=f"pass a {cls.KIND}.json file")
    version = data.get("schema_version")
    if version in cls.OLDER_VERSIONS:
        data = cls.upgrade(data)
    elif version != cls.SCHEMA_VERSION:
        reads = ", ".join(str(v) for v in (*cls.OLDER_VERSIONS, cls.SCHEMA_VERSION))
        raise ArtifactError(
            f"{p}: schema_version {version!r} is not supported (this leanserve {__version__} reads version {reads})",
            hint="rerun the stage that wrote it with this leanserve version",
        )
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        msg, hint = describe_validation_error(exc, cls, str(p))
        raise ArtifactError(msg, hint="the file does not match its schema; rerun the stage that wrote it") from None
