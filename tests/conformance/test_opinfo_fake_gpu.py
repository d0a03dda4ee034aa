"""The OpInfo run with our side on the GPU device, under Note [Fake GPU] (csrc/module.c: 'cuda' runs on MLX's CPU
where no GPU exists). It checks the package's device bookkeeping over every op: results on the inputs' device,
helper tensors created on it, no CPU/GPU mixing. Every entry the baseline lists as passing forward and backward
must pass here too, except where the GPU legitimately differs:
  * float64: MLX's GPU has none, so ops that make float64 results refuse with a TypeError (by design);
  * KNOWN below, each with its reason.
"""
import pytest

pytest.importorskip("torch")
pytest.importorskip("mlx_compat")

import runner  # noqa: E402

KNOWN = {
    "addbmm": "the CPU accumulates the batch sum in float64 to match torch's rounding; the GPU has no float64",
}

ENV = {"MLX_COMPAT_FAKE_GPU": "1", "MLX_COMPAT_OPINFO_DEVICE": "cuda"}


def _float64_refusal(reason):
    return "float64" in reason and "GPU" in reason


def test_opinfo_on_the_gpu_device():
    base = runner.load_baseline()
    want = [e for e in base["forward_backward"] if e not in runner.quarantine()]
    recs = {r["id"]: r for r in runner.run_many(want, jobs=1, env=ENV)}
    bad = []
    for eid in want:
        rec = recs.get(eid)
        if rec is None:
            bad.append(f"{eid}: no record")
        elif not runner.passes_forward_backward(rec):
            why = runner.first_reason(rec)
            if eid not in KNOWN and not _float64_refusal(why):
                bad.append(f"{eid}: {why[:300]}")
    assert not bad, "entries that pass on the CPU but not on the (fake) GPU device:\n" + "\n".join(bad)
