"""The whole benchmark suite (`make bench`): op overhead, training steps and inference, each workload run as
mlx_compat eager, mlx_compat compiled (mlx_compat.compile of the whole step / the model), native MLX (mlx.nn +
mlx.optimizers, eager and mx.compile) and torch (eager, and torch.compile where it works), with identical shapes,
dtypes, weights and work on every side (bench/suite_models.py builds the three models from one state_dict).
Writes a markdown report (machine, versions, date, exact shapes) to stdout and, with --write FILE, into FILE's
region between the suite markers of that device (replacing it; the rest of the file stays).

Sizes: --full is the GPU set (the issue's sizes); the default is the same architectures at sizes that finish on a
2-core CPU; --quick is smaller still (under ~5 minutes on that CPU). Every size is printed beside its row.
Usage: python bench/bench_suite.py [--device cpu|cuda] [--quick | --full] [--repeats N] [--write BENCHMARKS.md]
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime
import os
import platform
import statistics
import sys
import time
import traceback
import warnings
from functools import partial

import mlx.core as mx
import mlx.nn as mnn
import mlx.optimizers as mxopt
import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]  # bench/'s helpers, and this checkout's mlx_compat
import bench_dispatch  # noqa: E402
from suite_models import GPT2_SMALL, Workload, build, native_clone  # noqa: E402
from timing import timeit_interleaved  # noqa: E402



# ---------------------------------------------------------------- sizes
def training_workloads(size):
    """size: full (GPU) | cpu | quick | smoke. Each set ends with bfloat16 rows: the MLP's, and on the GPU sizes
    GPT-2's (MLX's CPU has no bfloat16 BLAS: a bfloat16 GPT-2 step there takes minutes, on torch's CPU too)."""
    ws = _training_workloads(size)
    bf16 = ("mlp", "gpt2") if size in ("full", "smoke") else ("mlp",)
    return ws + [dataclasses.replace(w, name=w.name + " bf16", dtype="bfloat16") for w in ws if w.kind in bf16]


def _training_workloads(size):
    if size == "smoke":
        return [Workload("MLP 784-128-10", "mlp", 8, "adam"),
                Workload("ResNet-18 32px", "resnet18", 2, "sgd", image=32),
                Workload("GPT-2 (1 layer d64 vocab 512)", "gpt2", 1, "adamw",
                         cfg=dict(n_layer=1, n_embd=64, n_head=4, seq=16, vocab=512)),
                Workload("ResNet-50 (at 32px)", "resnet50", 2, "sgd", image=32),
                Workload("ViT-B/16 32px (1 of 12 layers)", "vit", 1, "adamw", image=32, cfg=dict(num_layers=1))]
    if size == "full":
        return [Workload("MLP 784-128-10", "mlp", 64, "adam"),
                Workload("ResNet-18 32px", "resnet18", 128, "sgd", image=32),
                Workload("GPT-2-small T256", "gpt2", 8, "adamw", cfg=dict(GPT2_SMALL)),
                Workload("ResNet-50 224px", "resnet50", 32, "sgd", image=224),
                Workload("ViT-B/16 224px", "vit", 16, "adamw", image=224, cfg=dict(num_layers=12))]
    small = size == "quick"
    return [Workload("MLP 784-128-10", "mlp", 64, "adam"),
            Workload("ResNet-18 32px", "resnet18", 8 if small else 32, "sgd", image=32),
            Workload(f"GPT-2 d768 ({2 if small else 4} of 12 layers{', vocab 8192' if small else ''})", "gpt2",
                     2 if small else 4, "adamw", cfg=dict(GPT2_SMALL, n_layer=2 if small else 4,
                                                          seq=64 if small else 128, vocab=8192 if small else 50257)),
            Workload(f"ResNet-50 (at {32 if small else 64}px)", "resnet50", 2 if small else 4, "sgd",
                     image=32 if small else 64),
            Workload(f"ViT-B/16 224px ({1 if small else 2} of 12 layers)", "vit", 1 if small else 2, "adamw",
                     image=224, cfg=dict(num_layers=1 if small else 2))]


def inference_workloads(size):
    b = {"full": 32, "cpu": 8, "quick": 2, "smoke": 1}[size]
    gpt = dict(GPT2_SMALL) if size == "full" else dict(GPT2_SMALL, seq=128 if size == "cpu" else 64)
    if size == "smoke":
        gpt = dict(n_layer=1, n_embd=64, n_head=4, seq=16, vocab=512)
    img = 64 if size == "smoke" else 224
    return [Workload(f"ResNet-18 {img}px", "resnet18", b, image=img),
            Workload(f"ResNet-50 {img}px", "resnet50", b, image=img),
            Workload("GPT-2-small forward", "gpt2", 8 if size == "full" else 1, cfg=gpt),
            Workload("ViT-B/16 224px" + ("" if size in ("full", "cpu") else " (1 of 12 layers)"), "vit",
                     {"full": 16, "cpu": 2, "quick": 1, "smoke": 1}[size], image=224 if size != "smoke" else 32,
                     cfg=dict(num_layers=12 if size in ("full", "cpu") else 1))]


def generation_sizes(size):
    """(prompt tokens, new tokens), batch 1, GPT-2-small 12 layers."""
    return {"full": (32, 128), "cpu": (16, 32), "quick": (8, 8), "smoke": (4, 4)}[size]


# ---------------------------------------------------------------- devices
class Dev:
    """Where each side runs: torch on 'cpu'/'cuda' (synchronized around timings), MLX on mx.cpu/mx.gpu."""

    def __init__(self, name):
        import torch
        self.name = name
        # MLX_COMPAT_FAKE_GPU=1 without CUDA (Note [Fake GPU]): mlx_compat's 'cuda' is MLX's CPU, torch stays on the
        # CPU; a check of the device bookkeeping, not a GPU measurement
        fake = name == "cuda" and os.environ.get("MLX_COMPAT_FAKE_GPU") == "1" and not torch.cuda.is_available()
        self.torch = torch.device("cpu" if fake else name)
        self.torch_cuda = self.torch.type == "cuda"
        if name == "cuda" and not fake:
            mx.set_default_device(mx.gpu)
            torch.backends.cuda.matmul.allow_tf32 = True  # MLX's CUDA float32 matmul/conv are TF32-like
            torch.backends.cudnn.allow_tf32 = True
        elif name == "cpu":
            mx.set_default_device(mx.cpu)

    def torch_sync(self):
        import torch
        if self.torch_cuda:
            torch.cuda.synchronize()

    def torch_peak(self, fn):
        """Peak bytes a call allocates above what was resident (CUDA only; the CPU allocator keeps no stats)."""
        import torch
        if not self.torch_cuda:
            return None
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base


def mlx_peak(fn):
    """Peak bytes MLX's allocator holds during one call above what was live before (mlx_compat runs on it too)."""
    mx.synchronize()
    mx.reset_peak_memory()
    base = mx.get_active_memory()
    fn()
    mx.synchronize()
    return mx.get_peak_memory() - base


def checked(label, run, *rest):
    """(label, run, *rest) after one call of run (the compiling one), or (label, None, reason) if it raised."""
    try:
        run()
    except Exception as e:  # noqa: BLE001 - reported as the row's reason
        return (label, None, f"failed: {type(e).__name__}: {str(e).splitlines()[0][:150]}")
    return (label, run, *rest)


# ---------------------------------------------------------------- training steps, five or six ways
def _torch_opt(torch, kind, params):
    if kind == "adam":
        return torch.optim.Adam(params, lr=1e-3)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    return torch.optim.SGD(params, lr=0.01, momentum=0.9)


def _native_opt(kind):
    if kind == "adam":
        return mxopt.Adam(learning_rate=1e-3, bias_correction=True)
    if kind == "adamw":
        return mxopt.AdamW(learning_rate=1e-4, weight_decay=0.01, bias_correction=True)
    return mxopt.SGD(learning_rate=0.01, momentum=0.9)


def train_variants(w, dev, torch_compile):
    """[(label, run, peak)]: run() does one evaluated training step; peak() measures one step's memory or None.
    A variant that cannot run is (label, None, reason)."""
    import torch
    import mlx_compat as mc
    tm, om, nm, b = build(w, dev.name, torch_device=dev.torch)
    is_lm = w.kind == "gpt2"
    out = []

    # mlx_compat, eager and compiled (each its own copy of the model and optimizer)
    F = mc.nn.functional
    if is_lm:
        ids = mc.from_numpy(b["ids"]).to(dev.name)
        args = (ids,)

        def o_loss(m, ids):
            logits = m(ids)["logits"]
            return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    else:
        args = (mc.from_numpy(b["x"]).to(dev.name, getattr(mc, w.dtype)), mc.from_numpy(b["y"]).to(dev.name))

        def o_loss(m, x, y):
            return F.cross_entropy(m(x), y)

    def o_step(m, opt):
        # m and opt reach the step through its closure, where mlx_compat.compile finds its state (keyword-only
        # defaults of a `*args` function are not searched: the model's parameters would be left holding tracers)
        def step(*a):
            opt.zero_grad()
            loss = o_loss(m, *a)
            loss.backward()
            opt.step()
            return loss
        return step

    for compiled in (False, True):
        m = copy.deepcopy(om) if compiled else om
        step = o_step(m, _torch_opt(mc, w.optimizer, m.parameters()))
        # fullgraph: a step that cannot be traced raises instead of timing eager code as "compiled"
        fn = mc.compile(step, fullgraph=True) if compiled else step

        def run(fn=fn):
            mc.eval(fn(*args))

        out.append(checked(f"mlx_compat {'compiled' if compiled else 'eager'}", run, partial(mlx_peak, run)))

    # native MLX, eager and mx.compile (model and optimizer state as the compiled function's inputs/outputs)
    if is_lm:
        nargs = (mx.array(b["ids"]),)

        def n_loss(m, ids):
            logits = m(ids)[0]
            return mnn.losses.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                                            reduction="mean")
    else:
        x = b["x"] if b["x"].ndim == 2 else b["x"].transpose(0, 2, 3, 1)  # NHWC
        nargs = (mx.array(x).astype(getattr(mx, w.dtype)), mx.array(b["y"]))

        def n_loss(m, x, y):
            return mnn.losses.cross_entropy(m(x), y, reduction="mean")

    for compiled in (False, True):
        m = native_clone(w, nm) if compiled else nm
        opt = _native_opt(w.optimizer)
        grad_fn = mnn.value_and_grad(m, n_loss)
        state = [m.state, opt.state]

        def nstep(*a, m=m, opt=opt, grad_fn=grad_fn):
            loss, grads = grad_fn(m, *a)
            opt.update(m, grads)
            return loss

        fn = partial(mx.compile, inputs=state, outputs=state)(nstep) if compiled else nstep

        def run(fn=fn, state=state):
            mx.eval(fn(*nargs), state)

        out.append((f"native MLX {'mx.compile' if compiled else 'eager'}", run, partial(mlx_peak, run)))

    # torch eager, and torch.compile of the model (the optimizer step stays eager)
    if is_lm:
        targs = (torch.from_numpy(b["ids"]).to(dev.torch),)

        def t_loss(m, ids):
            logits = m(ids, use_cache=False).logits
            return torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                                     ids[:, 1:].reshape(-1))
    else:
        targs = (torch.from_numpy(b["x"]).to(dev.torch, getattr(torch, w.dtype)), torch.from_numpy(b["y"]).to(dev.torch))

        def t_loss(m, x, y):
            return torch.nn.functional.cross_entropy(m(x), y)

    for compiled in (False, True):
        label = f"torch {'compile' if compiled else 'eager'}"
        if compiled and torch_compile is not True:
            out.append((label, None, torch_compile))
            continue
        m = torch.compile(copy.deepcopy(tm)) if compiled else tm
        opt = _torch_opt(torch, w.optimizer, m.parameters())

        def tstep(m=m, opt=opt):
            opt.zero_grad()
            loss = t_loss(m, *targs)
            loss.backward()
            opt.step()
            dev.torch_sync()
            return loss

        if compiled:
            try:
                t0 = time.perf_counter()
                tstep()
                print(f"    torch.compile: first step {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            except Exception as e:  # noqa: BLE001 - reported as the row's reason
                out.append((label, None, f"torch.compile failed: {type(e).__name__}: {str(e).splitlines()[0][:120]}"))
                continue
        out.append((label, tstep, partial(dev.torch_peak, tstep)))
    return out


# ---------------------------------------------------------------- inference
def infer_variants(w, dev, torch_compile):
    import torch
    import mlx_compat as mc
    tm, om, nm, b = build(w, dev.name, torch_device=dev.torch)
    tm.eval(), om.eval(), nm.eval()
    is_lm = w.kind == "gpt2"
    key = "ids" if is_lm else "x"
    oin = mc.from_numpy(b[key]).to(dev.name)
    nin = mx.array(b[key] if is_lm or b[key].ndim == 2 else b[key].transpose(0, 2, 3, 1))
    tin = torch.from_numpy(b[key]).to(dev.torch)
    out = []

    def o_fwd(m):
        with mc.no_grad():
            r = m(oin, use_cache=False) if is_lm else m(oin)  # as torch's variant below
            mc.eval(r["logits"] if is_lm else r)

    out.append(("mlx_compat eager", partial(o_fwd, om)))
    out.append(checked("mlx_compat compiled", partial(o_fwd, mc.compile(copy.deepcopy(om), fullgraph=True))))

    def n_fwd(f):
        r = f(nin)
        mx.eval(r[0] if is_lm else r)

    out.append(("native MLX eager", partial(n_fwd, nm)))
    nc = native_clone(w, nm)
    out.append(("native MLX mx.compile", partial(n_fwd, mx.compile(nc, inputs=nc.state))))

    def t_fwd(m):
        with torch.no_grad():
            r = m(tin, use_cache=False).logits if is_lm else m(tin)
            dev.torch_sync()
        return r

    out.append(("torch eager", partial(t_fwd, tm)))
    if torch_compile is True:
        try:
            f = partial(t_fwd, torch.compile(copy.deepcopy(tm)))
            t0 = time.perf_counter()
            f()
            print(f"    torch.compile: first call {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            out.append(("torch compile", f))
        except Exception as e:  # noqa: BLE001
            out.append(("torch compile", None, f"torch.compile failed: {type(e).__name__}: {str(e)[:120]}"))
    else:
        out.append(("torch compile", None, torch_compile))
    return out


def generation_variants(dev, size):
    """GPT-2-small greedy decoding with the key/value cache, batch 1: mlx_compat's `generate`, transformers'
    `generate`, and the native decoder's loop. Returns (variants, prompt, new, same_tokens)."""
    import torch
    import mlx_compat as mc
    prompt, new = generation_sizes(size)
    cfg = dict(n_layer=1, n_embd=64, n_head=4, vocab=512) if size == "smoke" else dict(GPT2_SMALL)
    w = Workload("GPT-2-small", "gpt2", 1, cfg=dict(cfg, seq=prompt))
    tm, om, nm, b = build(w, dev.name, torch_device=dev.torch)
    tm.eval(), om.eval(), nm.eval()
    tm.generation_config.eos_token_id = None  # always `new` tokens on every side
    tm.generation_config.pad_token_id = 0
    oin, nin, tin = mc.from_numpy(b["ids"]).to(dev.name), mx.array(b["ids"]), torch.from_numpy(b["ids"]).to(dev.torch)
    res = {}

    def o_gen():
        r = om.generate(oin, max_new_tokens=new)
        mc.eval(r)
        res["ours"] = r

    def n_gen():
        r = nm.generate(nin, new)
        mx.eval(r)
        res["native"] = r

    def t_gen():
        with torch.no_grad():
            r = tm.generate(tin, max_new_tokens=new, min_new_tokens=new, do_sample=False)
        dev.torch_sync()
        res["torch"] = r

    o_gen(), n_gen(), t_gen()
    toks = [np.array(res["ours"].tolist()), np.array(res["native"]), res["torch"].cpu().numpy()]
    same = all(t.shape == toks[2].shape and (t == toks[2]).all() for t in toks)
    return [("mlx_compat eager", o_gen), ("native MLX eager", n_gen), ("torch eager (transformers)", t_gen)], \
        prompt, new, same, w


# ---------------------------------------------------------------- running and reporting
# a row whose variants take together less than this in all its repeats gets more repeats, up to MAX_REPEATS: five
# repeats of a 1 ms step measured an eager MLP at 1.20x native on an H100, 300 of them at 0.91x
MIN_ROW_SECONDS = 1.0
MAX_REPEATS = 301


def time_variants(variants, repeats, warmup):
    """Interleaved medians (ms) for the runnable variants; None for the others. At least `repeats` repeats, more
    for a fast row (MIN_ROW_SECONDS)."""
    live = [v for v in variants if v[1] is not None]
    fns = [v[1] for v in live]
    for _ in range(warmup):
        for fn in fns:
            fn()
    t0 = time.perf_counter()
    for fn in fns:
        fn()
    one = time.perf_counter() - t0
    n = min(MAX_REPEATS, max(repeats, int(MIN_ROW_SECONDS / max(one, 1e-6)) + 1))
    ms = timeit_interleaved(fns, n, warmup=0)
    by = dict(zip([v[0] for v in live], ms))
    return [by.get(v[0]) for v in variants]


def skipped_notes(notes):
    """One line per (variant, reason): the rows it applies to."""
    by = {}
    for variant, reason, row in notes:
        by.setdefault((variant, reason), []).append(row)
    return [""] + [f"- {v} skipped ({', '.join(rows)}): {r}" for (v, r), rows in by.items()] if by else []


def rate(n, ms):
    v = n / ms * 1e3
    return f"{v:,.0f}" if v >= 100 else f"{v:.3g}"


def fmt_mib(b):
    return "n/a" if b is None else f"{b / 2**20:.0f}"


def header(args):
    import torch
    import mlx_compat as mc
    try:
        import transformers
        tv = f"transformers {transformers.__version__}"
    except ImportError:
        tv = "transformers missing"
    try:
        from suite_models import import_torchvision
        import_versions = f"torchvision {import_torchvision().__version__}"
    except Exception:  # noqa: BLE001
        import_versions = "torchvision missing"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    gpu = ""
    if args.device == "cuda":
        gpu = (f"; GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else
               "; no CUDA for torch (MLX_COMPAT_FAKE_GPU check: torch on the CPU)") + f", MLX device {mx.default_device()}"
    size = "full (GPU sizes)" if args.full else "quick" if args.quick else "smoke" if args.smoke else "CPU sizes"
    return [
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, `python bench/bench_suite.py "
        f"{' '.join(sys.argv[1:])}` ({size}).",
        f"Machine: {platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores, load average "
        f"{load:.1f} at start{gpu}. Threads: torch {torch.get_num_threads()}, MLX's BLAS {mc.get_num_threads()}.",
        f"Versions: Python {platform.python_version()}, mlx {mx.__version__}, mlx_compat (this checkout), "
        f"torch {torch.__version__}, {tv}, {import_versions}, numpy {np.__version__}.",
        "Every side computes the same thing: the same architecture built from one state_dict (torchvision / "
        "transformers weights carried into mlx_compat and into the native mlx.nn model; bench/suite_models.py), "
        "the same float32 inputs and integer targets, the same loss and optimizer hyper-parameters; dropout off. "
        "Native MLX takes images as NHWC (its layout), the others NCHW.",
        f"Times: median ms over {args.repeats} repeats (a row whose variants take less than {MIN_ROW_SECONDS:g} s "
        f"in all: more, up to {MAX_REPEATS}), all variants of a row interleaved within every repeat "
        "(bench/timing.py), each step including its evaluation (MLX: `mx.eval` of loss, parameters and optimizer "
        "state; torch CUDA: `torch.cuda.synchronize()`). Ratios are from the same run.",
    ]


def ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}×"


def _print_partial_on_sigterm(lines, device):
    """On SIGTERM (`timeout` ending a run on a lent machine) print the report's rows measured so far, so that a run
    cut short still gives its finished tables."""
    import signal

    def handler(signum, frame):
        print("\n".join([f"## Benchmark suite — {device} (cut short by SIGTERM; the rows finished so far)", ""]
                        + lines), flush=True)
        sys.exit(124)
    signal.signal(signal.SIGTERM, handler)


def _selected(args, kind):
    """--only: the workload kinds (mlp, resnet18, resnet50, vit, gpt2, generation) to run; all when not given."""
    return not args.only or kind in args.only


def run_suite(args):
    import torch
    import mlx_compat as mc
    dev = Dev(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
        mc.set_num_threads(args.threads)
    size = "full" if args.full else "quick" if args.quick else "smoke" if args.smoke else "cpu"
    if args.torch_compile == "off":
        tc = "skipped (--torch-compile off)"
    elif args.torch_compile == "auto" and args.device == "cpu" and (args.quick or args.smoke):
        tc = f"skipped in --{size} on the CPU (inductor's C++ compilation takes minutes per model here)"
    else:
        tc = True
    lines = header(args)
    _print_partial_on_sigterm(lines, args.device)
    warnings.simplefilter("ignore")  # transformers' and torchvision's notices
    t_start = time.perf_counter()

    # 1. op overhead
    lines += ["", f"### Op overhead (bench/bench_dispatch.py, {args.device}): graph building only, no evaluation",
              ""]
    reps, num = (5, 20) if args.smoke else (31, 100) if args.quick else (101, 200)
    try:
        rows = bench_dispatch.run(args.device, reps, num)
        geo = float(np.exp(np.mean([np.log(r[3]) for r in rows])))
        lines += [f"Median of {reps} × {num} calls on 4×4 float32 tensors, µs per call; ours and raw `mlx.core` "
                  "alternated run by run.", "", "| call | mlx_compat µs | raw mlx µs | ratio |", "|---|---|---|---|"]
        lines += [f"| `{n}` | {o:.2f} | {r:.2f} | {q:.2f}× |" for n, o, r, q in rows]
        lines += [f"| geometric mean | | | {geo:.2f}× |"]
    except Exception as e:  # noqa: BLE001 - e.g. no MLX GPU under MLX_COMPAT_FAKE_GPU
        lines.append(f"failed: {type(e).__name__}: {str(e)[:200]}")
    print(f"op overhead done ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)

    # 2. training
    lines += ["", "### Training steps (zero_grad, forward, loss, backward, optimizer step)", "",
              "ms per step (images or tokens per second); peak = MiB the step allocates above what was resident "
              "(MLX's allocator for mlx_compat and native MLX; `torch.cuda.max_memory_allocated` on CUDA; n/a for "
              "torch on the CPU, whose allocator keeps no statistics). Ratios: mlx_compat ÷ native MLX (time) "
              "and torch eager ÷ mlx_compat (above 1: ours faster).", "",
              "| workload | shapes, dtypes | optimizer | mlx_compat eager | mlx_compat compiled | native MLX eager |"
              " native MLX mx.compile | torch eager | torch.compile | ours/MLX eager | ours/MLX compiled |"
              " torch eager/ours eager |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    opt_name = {"adam": "Adam lr 1e-3", "adamw": "AdamW lr 1e-4 wd 0.01", "sgd": "SGD lr 0.01 momentum 0.9"}
    for w in training_workloads(size):
        if not _selected(args, w.kind) or args.rows == "infer" or args.dtype not in (None, w.dtype):
            continue
        t0 = time.perf_counter()
        try:
            vs = train_variants(w, dev, tc)
            ms = time_variants(vs, args.repeats, args.warmup)
            peaks = [v[2]() if v[1] is not None and v[2] is not None else None for v in vs]
        except Exception as e:  # noqa: BLE001 - one workload's failure is reported, the rest still run
            traceback.print_exc()
            lines.append(f"| {w.name} | {w.shapes()} | {opt_name[w.optimizer]} | failed: {type(e).__name__}: "
                         f"{str(e)[:150]} | | | | | | | | |")
            continue
        n, unit = w.items()
        cells = []
        for v, t, p in zip(vs, ms, peaks):
            if t is None:
                cells.append("skipped")
                notes.append((v[0], v[2], w.name))
            else:
                cells.append(f"{t:.1f} ({rate(n, t)} {unit}/s; peak {fmt_mib(p)})")
        oe, oc, ne, nc, te = ms[0], ms[1], ms[2], ms[3], ms[4]
        lines.append(f"| {w.name} | {w.shapes()} | {opt_name[w.optimizer]} | " + " | ".join(cells) +
                     f" | {ratio(oe, ne)} | {ratio(oc, nc)} | {ratio(te, oe)} |")
        print(f"train {w.name}: {[None if t is None else round(t, 1) for t in ms]} "
              f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        del vs
    lines += skipped_notes(notes)

    # 3. inference
    lines += ["", "### Inference (eval mode, no autograd)", "",
              "ms per forward (images or tokens per second).", "",
              "| model | shapes, dtypes | mlx_compat eager | mlx_compat compiled | native MLX eager | "
              "native MLX mx.compile | torch eager | torch.compile | ours/MLX eager | ours/MLX compiled |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for w in inference_workloads(size):
        if not _selected(args, w.kind) or args.rows == "train":
            continue
        t0 = time.perf_counter()
        try:
            vs = infer_variants(w, dev, tc)
            ms = time_variants(vs, args.repeats, args.warmup)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            lines.append(f"| {w.name} | {w.shapes()} | failed: {type(e).__name__}: {str(e)[:150]} | | | | | | | |")
            continue
        n, unit = w.items()
        cells = []
        for v, t in zip(vs, ms):
            if t is None:
                cells.append("skipped")
                notes.append((v[0], v[2], w.name))
            else:
                cells.append(f"{t:.1f} ({rate(n, t)} {unit}/s)")
        lines.append(f"| {w.name} | {w.shapes().split(', y int64')[0]} | " + " | ".join(cells) +
                     f" | {ratio(ms[0], ms[2])} | {ratio(ms[1], ms[3])} |")
        print(f"infer {w.name}: {[None if t is None else round(t, 1) for t in ms]} "
              f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        del vs
    lines += skipped_notes(notes)

    # 4. generation
    t0 = time.perf_counter()
    if not _selected(args, "generation"):
        lines += ["", "Whole suite: {:.0f} s (--only {}).".format(time.perf_counter() - t_start, " ".join(args.only))]
        return lines
    try:
        vs, prompt, new, same, gw = generation_variants(dev, size)
        reps = max(3, args.repeats // 3)
        ms = time_variants(vs, reps, 1)
        c = gw.cfg
        lines += ["", f"### GPT-2 generation with the key/value cache ({c['n_layer']}L d{c['n_embd']}, vocab "
                  f"{c['vocab']}, float32)", "",
                  f"Greedy, batch 1, prompt {prompt} tokens (int64), {new} new tokens; median of {reps} runs of the "
                  "whole `generate` (prompt pass included); tokens/s = new tokens ÷ time. The three produced "
                  f"{'identical' if same else 'DIFFERENT'} token sequences.", "",
                  "| implementation | ms per generate | new tokens/s |", "|---|---|---|"]
        lines += [f"| {v[0]} | {t:.0f} | {new / t * 1e3:.1f} |" for v, t in zip(vs, ms)]
        print(f"generation: {[round(t, 1) for t in ms]} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        lines += ["", f"GPT-2 generation failed: {type(e).__name__}: {str(e)[:200]}"]
    lines += ["", f"Whole suite: {time.perf_counter() - t_start:.0f} s."]
    return lines


def profile_training(w, dev, repeats):
    """Where one eager training step's time goes, mlx_compat against native MLX on the same workload: the whole
    step; building the forward+backward graph without evaluating it (Python and MLX graph construction only); the
    optimizer step with the evaluation of everything; and cProfile's top functions of mlx_compat's whole step."""
    import cProfile
    import io
    import pstats
    import mlx_compat as mc
    _, om, nm, b = build(w, dev.name, torch_device=dev.torch)
    F = mc.nn.functional
    x, y = mc.from_numpy(b["x"]).to(dev.name), mc.from_numpy(b["y"]).to(dev.name)
    nx = mx.array(b["x"] if b["x"].ndim == 2 else b["x"].transpose(0, 2, 3, 1))
    ny = mx.array(b["y"])
    oopt, nopt = _torch_opt(mc, w.optimizer, om.parameters()), _native_opt(w.optimizer)
    grad_fn = mnn.value_and_grad(nm, lambda m, x, y: mnn.losses.cross_entropy(m(x), y, reduction="mean"))
    t = {}

    def o_graph():
        oopt.zero_grad()
        loss = F.cross_entropy(om(x), y)
        loss.backward()
        return loss

    def o_full():
        o_graph()
        oopt.step()

    def n_full():
        loss, g = grad_fn(nm, nx, ny)
        nopt.update(nm, g)
        mx.eval(loss, nm.state, nopt.state)

    def timed(key, fn):
        t0 = time.perf_counter()
        r = fn()
        t.setdefault(key, []).append((time.perf_counter() - t0) * 1e3)
        return r

    for i in range(repeats + 2):
        if i == 2:
            t.clear()
        # mlx_compat: the graph, then the optimizer step (which evaluates grads, parameters and state together)
        timed("ours graph", o_graph)
        timed("ours opt.step + eval", oopt.step)
        # native: the graph (value_and_grad builds it lazily), then the update and one mx.eval
        loss, g = timed("native graph", lambda: grad_fn(nm, nx, ny))
        timed("native update + eval", lambda: (nopt.update(nm, g), mx.eval(loss, nm.state, nopt.state)))
        timed("ours full", o_full)
        timed("native full", n_full)
    med = {k: statistics.median(v) for k, v in t.items()}
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(3):
        o_full()
    pr.disable()
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(18)
    calls = sum(st[1] for st in pstats.Stats(pr).stats.values()) / 3
    return med, buf.getvalue(), calls


def profile_inference(w, dev, repeats):
    """The same breakdown for one eval-mode forward: building the graph without evaluating, then evaluating it;
    plus cProfile's top functions of mlx_compat's forward."""
    import cProfile
    import io
    import pstats
    import mlx_compat as mc
    _, om, nm, b = build(w, dev.name, torch_device=dev.torch)
    om.eval(), nm.eval()
    x = mc.from_numpy(b["x"]).to(dev.name)
    nx = mx.array(b["x"].transpose(0, 2, 3, 1))
    t = {}

    def timed(key, fn):
        t0 = time.perf_counter()
        r = fn()
        t.setdefault(key, []).append((time.perf_counter() - t0) * 1e3)
        return r

    def o_graph():
        with mc.no_grad():
            return om(x)

    for i in range(repeats + 2):
        if i == 2:
            t.clear()
        r = timed("ours graph", o_graph)
        timed("ours eval", lambda: mc.eval(r))
        r = timed("native graph", lambda: nm(nx))
        timed("native eval", lambda: mx.eval(r))
    med = {k: statistics.median(v) for k, v in t.items()}
    med["ours full"] = med["ours graph"] + med["ours eval"]
    med["native full"] = med["native graph"] + med["native eval"]
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(3):
        mc.eval(o_graph())
    pr.disable()
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(18)
    calls = sum(st[1] for st in pstats.Stats(pr).stats.values()) / 3
    return med, buf.getvalue(), calls


def layer_times(w, dev, repeats):
    """ms per layer type of one eval-mode forward, mlx_compat vs native MLX: every leaf layer's output is evaluated
    as it is produced (its inputs already were), so each layer's own work is timed; the sum exceeds an unsplit
    forward by the lost fusion and the per-evaluation cost."""
    import collections
    import mlx_compat as mc
    _, om, nm, b = build(w, dev.name, torch_device=dev.torch)
    om.eval(), nm.eval()
    x = mc.from_numpy(b["x"]).to(dev.name)
    nx = mx.array(b["x"].transpose(0, 2, 3, 1))
    acc = {"ours": collections.defaultdict(list), "native": collections.defaultdict(list)}
    cur = {}

    def pre(mod, args):
        cur[id(mod)] = time.perf_counter()

    def post(mod, args, out):
        mc.eval(out)
        acc["ours"][type(mod).__name__].append((time.perf_counter() - cur.pop(id(mod))) * 1e3)

    hooks = []
    for m in om.modules():
        if not list(m.children()):
            hooks += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]

    def wrap(name, fn):
        def inner(*a, **k):
            t0 = time.perf_counter()
            r = fn(*a, **k)
            mx.eval(r)
            acc["native"][name].append((time.perf_counter() - t0) * 1e3)
            return r
        return inner

    saved = {c: c.__call__ for c in (mnn.Conv2d, mnn.BatchNorm, mnn.MaxPool2d, mnn.Linear)}
    saved_relu = mnn.relu
    try:
        for c, f in saved.items():
            c.__call__ = wrap(c.__name__, f)
        mnn.relu = wrap("relu", saved_relu)
        for i in range(repeats + 1):
            if i == 1:
                for d in acc.values():
                    d.clear()
            with mc.no_grad():
                mc.eval(om(x))
            mx.eval(nm(nx))
    finally:
        for c, f in saved.items():
            c.__call__ = f
        mnn.relu = saved_relu
        for h in hooks:
            h.remove()
    return {side: {k: sum(v) / repeats for k, v in d.items()} for side, d in acc.items()}


def write_region(path, text, device):
    """Replace the text between this device's suite markers in `path` (appending the region if absent)."""
    begin, end = f"<!-- bench_suite:{device}:begin -->", f"<!-- bench_suite:{device}:end -->"
    old = open(path).read() if os.path.exists(path) else ""
    block = f"{begin}\n{text}\n{end}"
    if begin in old and end in old:
        new = old[:old.index(begin)] + block + old[old.index(end) + len(end):]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(new)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="smallest sizes: under ~5 minutes on a 2-core CPU")
    g.add_argument("--full", action="store_true", help="the issue's (GPU) sizes")
    g.add_argument("--smoke", action="store_true", help="tiny shapes: checks that every path runs (seconds)")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="torch and MLX BLAS threads (0: their defaults)")
    p.add_argument("--torch-compile", choices=("auto", "on", "off"), default="auto")
    p.add_argument("--title", default=None)
    p.add_argument("--only", nargs="+", choices=("mlp", "resnet18", "resnet50", "vit", "gpt2", "generation"),
                   help="run only these workloads (training and inference rows of that kind)")
    p.add_argument("--dtype", choices=("float32", "bfloat16"), default=None,
                   help="training rows of this dtype alone (default: both)")
    p.add_argument("--rows", choices=("train", "infer", "all"), default="all",
                   help="with --only: only the training rows or only the inference rows of those kinds")
    p.add_argument("--write", metavar="FILE", help="replace FILE's suite region with the report")
    p.add_argument("--profile", metavar="KIND", help="instead of the suite: where an eager training step's time "
                   "goes, mlx_compat vs native MLX (mlp, resnet18, resnet50, vit), at the chosen size")
    p.add_argument("--infer", action="store_true", help="with --profile: an eval-mode forward instead of a step")
    args = p.parse_args(argv)
    if args.profile:
        size = "full" if args.full else "quick" if args.quick else "smoke" if args.smoke else "cpu"
        pool = inference_workloads(size) if args.infer else training_workloads(size)
        w = next(x for x in pool if x.kind == args.profile)
        dev = Dev(args.device)
        if args.threads:
            import torch
            import mlx_compat as mc
            torch.set_num_threads(args.threads)
            mc.set_num_threads(args.threads)
        med, prof, calls = (profile_inference if args.infer else profile_training)(w, dev, args.repeats or 5)
        print(f"{w.name}: {w.shapes()}, {w.optimizer}; median ms of {args.repeats or 5} repeats, load average "
              f"{os.getloadavg()[0]:.1f}")
        for k, v in med.items():
            print(f"  {k:<24}{v:10.1f}")
        print(f"Python function calls per mlx_compat step: {calls:,.0f}\n{prof}")
        if args.infer and w.kind.startswith("resnet"):
            lt = layer_times(w, dev, args.repeats or 5)
            print("ms per forward by layer type, each layer evaluated on its own (mean of the repeats):")
            for side, d in lt.items():
                print(f"  {side}: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(d.items(), key=lambda kv: -kv[1]))
                      + f"; total {sum(d.values()):.1f}")
        return
    if args.repeats is None:
        args.repeats = 5 if args.quick else (20 if args.full else 9)
    lines = run_suite(args)
    title = args.title or f"## Benchmark suite (`make bench`, bench/bench_suite.py) — {args.device}"
    text = "\n".join([title, ""] + lines)
    print(text)
    if args.write:
        write_region(args.write, text, args.device)


if __name__ == "__main__":
    main()
