"""What every model family provides. A family is what differs between kinds of model.

The planner-facing part (the capacity unit, the SLA, demand and capacity in that unit, response
size) is defined here; compress, package and bench ask the family for their parts too. A new
family is one module with a subclass of :class:`Family` and one entry in
:data:`toolkit.families.REGISTRY`.
"""

from __future__ import annotations

from typing import ClassVar

from toolkit.sla import SLA, Constraint, Rate


class Family:
    """Base class of a model family. Subclasses set the class attributes and override what differs."""

    task: ClassVar[str]  # the spec's ``model.task`` value
    title: ClassVar[str]  # one line for help texts
    capacity_unit: ClassVar[str] = "req/s"  # the unit the planner's simulation and search count in
    response_kb: ClassVar[float] = 1.0  # mean response size (SageMaker's data-processing charge)
    request_kb: ClassVar[float] = 1.0

    # ---- planner -------------------------------------------------------------------------------
    def sla(self, sla_spec) -> SLA:
        """The spec's ``sla`` section as typed constraints (the encoder form: one latency percentile)."""
        pct = sla_spec.percentile
        return SLA(
            constraints=[Constraint(metric="latency", percentile=pct, limit=float(sla_spec.latency_ms), unit="ms")],
            peak=Rate(value=self.units_per_request() * float(sla_spec.peak_rps), unit=self.capacity_unit),
            peak_rps=float(sla_spec.peak_rps),
            max_violation_minutes_per_month=float(sla_spec.max_violation_minutes_per_month),
            min_instances=int(sla_spec.availability.min_instances),
            spread_across_zones=bool(sla_spec.availability.spread_across_zones),
            max_error_rate=float(sla_spec.max_error_rate),
        )

    def units_per_request(self, spec=None) -> float:
        """How many capacity units one request is (1 for requests/s)."""
        return 1.0

    def demand(self, rps, spec=None):
        """Traffic in requests/s per minute -> demand in the capacity unit."""
        import numpy as np

        return np.asarray(rps, dtype=float) * self.units_per_request(spec)

    def measured_profiles(self, profiles) -> list:
        """What :meth:`capacity` is given of profiles.json (a ProfilesFile or None): the request-level profiles."""
        return list(profiles.profiles) if profiles is not None else []

    def capacity(self, variant, instance, sla: SLA, profiles, machine, spec):
        """Capacity of one instance at the SLA, in :attr:`capacity_unit`: a ``toolkit.perf.CapacityEstimate``
        (its ``*_rps`` fields hold the family's unit) or a ``toolkit.perf.Exclusion`` saying why it cannot run."""
        from toolkit.perf import estimate_capacity
        from toolkit.perf.lengths import traffic_lengths

        seq = traffic_lengths(spec, profiles) if spec is not None else 128  # the traffic's request-length mix, and where it comes from
        return estimate_capacity(variant, instance, sla.percentile, sla.latency_ms, profiles, machine, seq_len=seq)

    #: ``Quality`` fields where the reference scores 1 (loss = 1 - value); every other quality field is a loss as it is
    SIMILARITY_FIELDS: ClassVar[tuple[str, ...]] = ("cosine_mean", "cosine_p5", "top1_agreement")

    def quality_loss(self, quality) -> tuple[float, ...]:
        """How far a variant's quality is from the reference, as a sort key (smaller is closer): each of
        :attr:`quality_fields` in turn, then the probe accuracy drop; a figure not measured counts as the largest loss.
        The planner breaks cost ties with it (the reference-closest variant wins)."""
        out = []
        for name in self.quality_fields + ("accuracy_drop_points",):
            v = getattr(quality, name, None)
            out.append(float("inf") if v is None else (1.0 - float(v) if name in self.SIMILARITY_FIELDS else float(v)))
        return tuple(out)

    def supports_platform(self, platform) -> bool:
        """Whether this family can be served on ``platform`` (a ``toolkit.platforms.Platform``)."""
        return True

    def __repr__(self) -> str:
        return f"<family {self.task}>"

    # ---- compress, package, bench: what the stages ask a family (defaults raise; see encoder.py) ----
    #: the ONNX graph's output tensor, its rank, and its dynamic axes (torch.onnx.export form)
    output_name: ClassVar[str]
    output_rank: ClassVar[int]
    output_axes: ClassVar[dict[int, str]]
    #: optimum-onnx's name for the export task (None: export with torch.onnx directly)
    optimum_task: ClassVar[str | None] = None
    #: the ``QualityFloor`` fields this family's gate checks, and the ``Quality`` fields its fidelity fills
    floor_fields: ClassVar[tuple[str, ...]] = ()
    quality_fields: ClassVar[tuple[str, ...]] = ()
    #: the tensor the Triton ensemble returns to clients (and the bench reads back)
    triton_output: ClassVar[str]
    #: whether the graph output is mean-pooled outside the graph (a Python-backend ``pooling`` step)
    pooling: ClassVar[bool] = False
    #: the local latency shapes (batch, tokens) compress measures every variant at
    LATENCY_SHAPES: ClassVar[tuple[tuple[int, int], ...]] = ((1, 32), (8, 128))

    def _missing(self, what: str):
        raise NotImplementedError(f"family {self.task!r} does not provide {what}")

    def latency_shapes(self, spec=None) -> tuple[tuple[int, int], ...]:
        """(batch, tokens) shapes at which compress times every variant locally."""
        return self.LATENCY_SHAPES

    def check_source(self, src) -> None:
        """Raise a ModelError when the model folder ``src`` (a ``compress.source.ModelSource``) cannot serve this family."""

    def auto_model_class(self):
        """The transformers Auto class to load the fp32 model with."""
        self._missing("auto_model_class()")

    def random_model(self, config, *, num_labels: int = 3):
        """A randomly initialised model of this family on a transformers ``config`` (for tiny test models)."""
        self._missing("random_model()")

    def graph_output(self, model_output):
        """The torch tensor of a model's forward output that the exported graph returns."""
        return getattr(model_output, self.output_name)

    def postprocess(self, outputs, attention_mask):
        """Graph outputs (numpy) -> what a request returns, float32 rows (what compress compares)."""
        self._missing("postprocess()")

    def torch_target(self, model, batch: dict):
        """The model's prediction on a torch ``batch`` in the form distillation matches (pooled vectors, logits)."""
        self._missing("torch_target()")

    def distill_loss(self, student_out, target):
        """Distillation loss between a student's :meth:`torch_target` and the teacher's."""
        self._missing("distill_loss()")

    def distill_loss_report(self, loss: float) -> tuple[str, float]:
        """(label, value) to report a distillation loss in."""
        return "loss", loss

    def head_damage(self, base, out) -> float:
        """How much masking a head changed the output (:meth:`torch_target` without and with the mask)."""
        self._missing("head_damage()")

    def fidelity(self, ref, out) -> dict:
        """``Quality`` fields comparing a variant's rows with the reference's."""
        self._missing("fidelity()")

    def reference_quality(self) -> dict:
        """The :meth:`fidelity` of the reference with itself."""
        self._missing("reference_quality()")

    def fidelity_reasons(self, quality, floor) -> list[str]:
        """Why ``quality`` misses the fidelity part of ``floor`` (empty when it passes)."""
        return []

    def quality_gate(self, quality, floor) -> str | None:
        """The reason a variant misses the spec's quality floor, or None when it passes."""
        reasons = list(self.fidelity_reasons(quality, floor))
        if quality.accuracy_drop_points is not None and quality.accuracy_drop_points > floor.max_accuracy_drop_points:
            reasons.append(f"probe accuracy drop {quality.accuracy_drop_points:.2f} points > {floor.max_accuracy_drop_points}")
        return "; ".join(reasons) or None

    def quality_cell(self, row: dict) -> str:
        """The 'quality' cell of the compress results table for one ``compress.table.rows`` row."""
        return "—"
