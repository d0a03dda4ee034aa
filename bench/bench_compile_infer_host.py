"""Host cost of a compiled ResNet-18 inference call: main-thread CPU ms (time.thread_time) and wall ms per call of
ours and native MLX, compiled and eager, on a tiny 1x3x8x8 input so that host time dominates, interleaved.
Run from the repository root: OMP_NUM_THREADS=1 python bench/bench_compile_infer_host.py"""
import sys, time, statistics
sys.path[:0] = ["bench", "."]
import workloads as W, mlx.core as mx, mlx_compat as torch
w = W.get("resnet18_infer", "cpu")
w.ours_batch = lambda: (torch.randn(1, 3, 8, 8), None)
w.native_batch = lambda: (mx.random.normal((1, 8, 8, 3)), None)
fs = {"ours_c": W.ours_step(w, True), "nat_c": W.native_step(w, True), "ours_e": W.ours_step(w, False), "nat_e": W.native_step(w, False)}
for f in fs.values():
    for _ in range(10): f()
res = {k: [] for k in fs}
for _ in range(30):
    for k, f in fs.items():
        t0 = time.thread_time(); w0=time.perf_counter()
        for _ in range(20): f()
        res[k].append(((time.thread_time()-t0)/20*1e3, (time.perf_counter()-w0)/20*1e3))
for k, v in res.items():
    print(k, "thread ms %.3f wall ms %.3f" % (statistics.median(a for a,b in v), statistics.median(b for a,b in v)))
