"""Check the CPU path of the LLM performance model against what was served here.

    .venv/bin/python benchmarks/perf_model_cpu_llm.py SPEC OUT     # OUT: `leanserve run SPEC --out OUT` of a generative spec
    .venv/bin/python benchmarks/perf_model_cpu_llm.py examples/smollm2/leanserve.yaml out/demo-smollm2

The planner's CPU capacity comes from the step model fitted on the decoder latency compress measured in process
(variants.json ``decoder_latency``: a prefill at batch 1 and decode steps at batch 1 and 4). This prints, for each
variant the run benchmarked through Triton (profiles.json ``token_profiles``), the fitted model's prediction of the
served figures against the measured ones at each concurrency:

- TTFT p50 at concurrency 1 vs the model's prefill of the bench's mean prompt (plus one decode step);
- ITL p50 at concurrency c vs the model's decode step at batch c, at the mean context of a request mid-stream.

The relative errors are the CPU path's error on served traffic (the in-process fit itself has nearly none: three
points, five efficiencies). Figures measured on this machine; the served ones include Triton, the Python backend
and the HTTP stream.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rows_for(spec: Path, out: Path) -> list[list[str]]:
    from toolkit.artifacts import load_artifact
    from toolkit.artifacts.profiles import ProfilesFile
    from toolkit.artifacts.variants import VariantsFile
    from toolkit.perf.hardware import hardware_of_machine
    from toolkit.perf.llm.calibration import CpuPoint, fit_cpu
    from toolkit.perf.llm.hardware import cpu
    from toolkit.perf.llm.step_time import StepModel
    from toolkit.planner.llm_capacity import variant_format
    from toolkit.planner.llm_context import context_for
    from toolkit.spec import load_spec

    vf = load_artifact(VariantsFile, out / "variants.json")
    prof = load_artifact(ProfilesFile, out / "profiles.json")
    ctx = context_for(load_spec(spec).spec, spec.parent)
    rows = []
    for tp in prof.token_profiles:
        v = vf.get(tp.variant)
        lat = v.decoder_latency
        if lat is None:
            continue
        threads = int(lat.threads)
        prompt = int(lat.prompt_tokens)
        pts = [CpuPoint(kind="prefill", ms=float(ms), tokens=prompt * int(b), id=f"prefill-b{b}") for b, ms in lat.prefill_ms.items() if int(b) == 1]
        pts += [CpuPoint(kind="decode", ms=float(ms), batch=int(b), context=prompt, id=f"decode-b{b}") for b, ms in lat.decode_ms_per_token.items()]
        src = hardware_of_machine(vf.machine)
        here = cpu("measured", src.cpu_gops(threads, "fp32"), src.cpu_gops(threads, "int8"), src.cpu_bandwidth_gbs(threads),
                   vf.machine.memory_gib or 16.0, accelerator=src.cpu.cpu)
        arch, fmt = ctx.arch_for(v), variant_format(v)
        cal = fit_cpu(pts, arch, fmt, here)
        step = StepModel(arch, fmt, here, 1, cal.eff())
        p_mean = tp.shapes.prompt_tokens.mean or prompt
        o_mean = tp.shapes.output_tokens.mean or 64
        for pt in tp.points:
            c = pt.concurrency or 1
            ctx_len = int(p_mean + o_mean / 2)
            itl = step.decode_ms(c, ctx_len)
            ttft = step.prefill_ms(int(p_mean)) + step.decode_ms(1, int(p_mean))
            rows.append([tp.variant, str(c), f"{pt.itl_ms.p50:.1f}", f"{itl:.1f}", f"{itl / pt.itl_ms.p50 - 1:+.0%}",
                         f"{pt.ttft_ms.p50:.0f}" if c == 1 else "-", f"{ttft:.0f}" if c == 1 else "-",
                         f"{ttft / pt.ttft_ms.p50 - 1:+.0%}" if c == 1 else "-", f"{p_mean:.0f}/{o_mean:.0f}"])
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    rows = rows_for(Path(argv[0]), Path(argv[1]))
    head = ["variant", "c", "ITL p50 served", "model", "error", "TTFT p50 served", "model", "error", "prompt/output"]
    cells = [head] + rows
    w = [max(len(r[i]) for r in cells) for i in range(len(head))]
    for i, r in enumerate(cells):
        print("  ".join(x.ljust(w[j]) for j, x in enumerate(r)))
        if i == 0:
            print("  ".join("-" * x for x in w))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
