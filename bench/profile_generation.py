"""Where GPT-2 greedy decoding's time goes, mlx_compat (models.gpt2's `generate`) against the native MLX decoder of
bench/suite_models.py (MGPT2.generate), both GPT-2-small, batch 1, with the key/value cache.

Three reports:
  prims   the MLX primitives of one decoding step's graph (one new token after `--past` cached positions), counted
          from mx.export_to_dot, ours against native, so a primitive ours adds shows up by name;
  time    interleaved medians: a whole generate (prompt pass + `--new` tokens), one step's graph building alone,
          one step built and evaluated;
  instr   (under callgrind) host instructions to build one decoding step's graph, and instructions of one
          evaluated step split into the BLAS library, libmlx and the rest (Python and our extension):
              valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=/tmp/cg.%p \\
                  python bench/profile_generation.py instr [--steps N]
              python bench/profile_generation.py report /tmp/cg.PID [--steps N]
          Each phase is bracketed by os.getppid() calls, at which callgrind dumps its counters. Random weights and
          no torch import, so the run stays short under valgrind (the graph and the work do not depend on values).

Usage: OMP_NUM_THREADS=1 python bench/profile_generation.py [prims|time|instr|report ...] [--past 16] [--new 16]
"""
from __future__ import annotations

import argparse
import collections
import glob
import os
import re
import statistics
import sys
import tempfile
import time

import mlx.core as mx

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]
from suite_models import GPT2_SMALL, MGPT2  # noqa: E402

INSTR_PHASES = ["ours graph", "native graph", "ours step", "native step"]


def _count(arrays):
    """Primitive name -> count over the unevaluated graph of arrays."""
    with tempfile.NamedTemporaryFile("r", suffix=".dot") as f:
        mx.export_to_dot(f.name, *arrays)
        return collections.Counter(re.findall(r'label ="([^"]+)"', open(f.name).read()))


def models(seed=0, vocab=None, layers=None):
    """(ours, native) GPT-2-small in eval mode with random weights (native's built from ours, so both decode the
    same tokens); `vocab` and `layers` replace the 50257 tokens and 12 layers (instr: valgrind's run stays short;
    the graph per layer does not depend on them)."""
    import numpy as np
    import mlx_compat as mc
    from mlx_compat.models.gpt2 import GPT2LMHeadModel
    c = dict(GPT2_SMALL, vocab=vocab or GPT2_SMALL["vocab"], n_layer=layers or GPT2_SMALL["n_layer"])
    mc.manual_seed(seed)
    om = GPT2LMHeadModel(dict(vocab_size=c["vocab"], n_embd=c["n_embd"], n_layer=c["n_layer"], n_head=c["n_head"],
                              resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)).eval()
    nm = MGPT2(c["n_layer"], c["n_embd"], c["n_head"], c["vocab"])
    w = []
    for k, v in om.state_dict().items():
        if k == "lm_head.weight":
            continue
        a = np.asarray(v.numpy())
        if k.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")):
            a = a.T
        w.append((k.removeprefix("transformer."), mx.array(np.ascontiguousarray(a))))
    nm.load_weights(w, strict=True)
    mx.eval(nm.parameters())
    nm.eval()
    return om, nm


class Steps:
    """One decoding step on each side after `past` cached positions: graph building only, or built and
    evaluated (the token the step produces, as both decoders evaluate it)."""

    def __init__(self, om, nm, past):
        import numpy as np
        import mlx_compat as mc
        self.mc = mc
        ids = np.random.default_rng(0).integers(0, 500, (1, past)).astype(np.int64)
        with mc.no_grad():
            out = om(mc.from_numpy(ids))
        self.opast = out["past_key_values"]
        mc.eval(*[t for kv in self.opast for t in kv])
        _, self.npast = nm(mx.array(ids))
        mx.eval(self.npast)
        self.om, self.nm = om, nm
        self.otok = mc.tensor([[int(ids[0, -1])]])
        self.ntok = mx.array(ids[:, -1:])

    def ours_graph(self):
        with self.mc.no_grad():  # generate's step (the token looked up as a generated one)
            logits, _ = self.om._decode_step(self.otok, self.opast, True)
        return logits.argmax(dim=-1)

    def native_graph(self):
        logits, _ = self.nm(self.ntok, self.npast)
        return mx.argmax(logits[:, -1, :], axis=-1)

    def ours_step(self):
        mx.eval(self.ours_graph()._mx)

    def native_step(self):
        mx.eval(self.native_graph())


def prims(a):
    om, nm = models()
    s = Steps(om, nm, a.past)
    ours, native = _count([s.ours_graph()._mx]), _count([s.native_graph()])
    print(f"## one decoding step after {a.past} cached positions: MLX primitives (ours / native)")
    for k in sorted(set(ours) | set(native), key=lambda k: -(ours[k] + native[k])):
        mark = "" if ours[k] == native[k] else "   <-"
        print(f"  {k:28s} {ours[k]:5d} {native[k]:5d}{mark}")
    print(f"  {'total':28s} {sum(ours.values()):5d} {sum(native.values()):5d}")


def timing(a):
    from timing import timeit_interleaved
    import mlx_compat as mc
    om, nm = models()
    s = Steps(om, nm, a.past)
    import numpy as np
    ids = np.random.default_rng(1).integers(0, GPT2_SMALL["vocab"], (1, a.prompt)).astype(np.int64)
    oin, nin = mc.from_numpy(ids), mx.array(ids)
    res = {}

    def o_gen():
        res["o"] = om.generate(oin, max_new_tokens=a.new)
        mc.eval(res["o"])

    def n_gen():
        res["n"] = nm.generate(nin, a.new)
        mx.eval(res["n"])

    o_gen(), n_gen()
    same = res["o"].tolist() == np.array(res["n"]).tolist()
    rows = [("generate (prompt + new tokens)", o_gen, n_gen),
            ("one step, graph only", s.ours_graph, s.native_graph),
            ("one step, built and evaluated", s.ours_step, s.native_step)]
    fns = [f for _, o, n in rows for f in (o, n)]
    ms = timeit_interleaved(fns, a.repeats, warmup=1)
    print(f"## ms, medians of {a.repeats} interleaved (prompt {a.prompt}, {a.new} new tokens, step after "
          f"{a.past} cached); identical tokens: {same}")
    for i, (name, _, _) in enumerate(rows):
        o, n = ms[2 * i], ms[2 * i + 1]
        print(f"  {name:32s} ours {o:8.2f}  native {n:8.2f}  ratio {o / n:5.3f}")


def instr(a):
    om, nm = models(vocab=512, layers=a.layers)
    s = Steps(om, nm, a.past)
    calls = [s.ours_graph, s.native_graph, s.ours_step, s.native_step]
    for f in calls:  # warm-up
        f(), f()
    os.getppid()
    for f in calls:
        for _ in range(a.steps):
            f()
        os.getppid()


def report(a):
    files = sorted(glob.glob(a.prefix + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]))
    # dumps 1..5: setup up to the first getppid, then the four phases (the rest of the run: the unnumbered file)
    phases = dict(zip(INSTR_PHASES, files[1:5]))
    tot = {}
    for name, p in phases.items():
        with open(p) as f:
            tot[name] = next(int(l.split()[1]) for l in f if l.startswith(("summary:", "totals:")))
    print(f"## instructions per decoding step after {a.past} cached positions ({a.steps} steps per phase, "
          f"{a.layers} layers, vocab 512)")
    for name in INSTR_PHASES:
        print(f"  {name:14s} {tot[name] / a.steps / 1e6:10.3f} M")
    print(f"  host graph building ours / native: {tot['ours graph'] / tot['native graph']:.3f}x")


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("what", nargs="?", default="prims", choices=("prims", "time", "instr", "report"))
    p.add_argument("prefix", nargs="?", help="report: callgrind's output file prefix (/tmp/cg.PID)")
    p.add_argument("--past", type=int, default=16)
    p.add_argument("--prompt", type=int, default=8)
    p.add_argument("--new", type=int, default=8)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--layers", type=int, default=2, help="instr/report: layers of the model")
    p.add_argument("--repeats", type=int, default=9)
    a = p.parse_args(argv)
    {"prims": prims, "time": timing, "instr": instr, "report": report}[a.what](a)


if __name__ == "__main__":
    main()
