"""Tensors crossing threads (Note [Threads] in csrc/threads.c): built lazily in one thread and read, written
in place or differentiated in another; concurrent writers under a lock; the process-wide default generator
drawn from several threads. Each scenario runs the same code with torch and with mlx_compat and compares."""
import os
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mc = pytest.importorskip("mlx_compat")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def in_thread(fn, *args):
    """fn(*args) run in a new thread; its result, or its exception re-raised here."""
    out = {}

    def body():
        try:
            out["r"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed back to the caller
            out["e"] = e

    t = threading.Thread(target=body)
    t.start()
    t.join()
    if "e" in out:
        raise out["e"]
    return out["r"]


def values(t):
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


DATA = np.arange(12, dtype=np.float32).reshape(3, 4) / 7


@pytest.mark.parametrize("lib", [torch, mc], ids=["torch", "mlx_compat"])
def test_every_scenario_runs_in_torch_too(lib):
    """The scenarios below are what torch allows; run the producer/consumer one with each library."""
    x = in_thread(lambda: lib.tensor(DATA) * 2 + 1)
    assert np.allclose(values(x.exp().sum(0)), np.exp(DATA * 2 + 1).sum(0), rtol=1e-5)


def test_lazy_tensor_built_in_a_thread_is_read_in_another():
    def build(lib):
        x = lib.tensor(DATA)
        return (x * 3 + 1).tanh().sum(1)

    want = build(torch)
    got = in_thread(build, mc)  # lazy: never evaluated in the producer
    np.testing.assert_allclose(values(got), values(want), rtol=1e-5)
    assert got.tolist() == pytest.approx(want.tolist(), rel=1e-5)
    assert got[0].item() == pytest.approx(want[0].item(), rel=1e-5)
    # and a second consumer thread reads it too
    assert in_thread(lambda: got.sum().item()) == pytest.approx(want.sum().item(), rel=1e-5)


def test_in_place_writes_from_another_thread_are_seen_by_the_owner():
    results = {}
    for lib in (torch, mc):
        x = lib.tensor(DATA) * 1  # lazy in the owner thread
        v = x[1]  # a view the owner keeps

        def writer():
            x.add_(1)
            v.mul_(10)  # write-through from the worker
            x[:, 0] = -1.0

        in_thread(writer)
        results[lib] = (values(x), values(v), x._version)
    np.testing.assert_allclose(results[mc][0], results[torch][0], rtol=1e-6)
    np.testing.assert_allclose(results[mc][1], results[torch][1], rtol=1e-6)
    assert results[mc][2] == results[torch][2]


def test_backward_in_a_thread():
    grads = {}
    for lib in (torch, mc):
        w = lib.tensor(DATA, requires_grad=True)
        b = lib.tensor(DATA[0], requires_grad=True)
        loss = ((w * b).sin().sum(1) ** 2).mean()  # graph built in the main thread
        in_thread(loss.backward)
        grads[lib] = (values(w.grad), values(b.grad))
    for got, want in zip(grads[mc], grads[torch]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_training_steps_in_a_worker_thread_match_the_main_thread():
    def train(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 1))
        with lib.no_grad():
            for i, p in enumerate(model.parameters()):
                p.copy_(lib.tensor(np.cos(np.arange(p.numel(), dtype=np.float32) + i).reshape(p.shape)))
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = lib.tensor(DATA)
        y = lib.tensor(DATA.sum(1, keepdims=True))
        for _ in range(3):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
        return [values(p) for p in model.parameters()]

    want = train(torch)
    got = in_thread(train, mc)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6)


def test_concurrent_in_place_writes_under_a_lock():
    n_threads, n_iter = 4, 50
    finals = {}
    for lib in (torch, mc):
        x = lib.zeros(n_threads, 3)
        lock = threading.Lock()

        def worker(k):
            for i in range(n_iter):
                with lock:
                    x[k] += 1  # write through a view of the shared tensor
                    x.add_(0.5)  # and into the whole tensor
                    if i % 10 == 0:
                        x[k].sum().item()  # reading while others write

        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(worker, range(n_threads)))
        finals[lib] = (values(x), x._version)
    np.testing.assert_array_equal(finals[mc][0], finals[torch][0])
    assert finals[mc][1] == finals[torch][1]


def test_grad_mode_stays_thread_local_as_in_torch():
    for lib in (torch, mc):
        with lib.no_grad():
            worker_sees = in_thread(lib.is_grad_enabled)
            w = lib.ones(2, requires_grad=True)
            in_worker = in_thread(lambda: (w * 2).requires_grad)
        assert worker_sees is True and in_worker is True, lib.__name__


def test_randn_in_a_worker_does_not_break_the_main_threads_draws():
    in_thread(lambda: mc.randn(3))
    # before Note [Threads], the default generator's key then lived on the worker's stream
    assert np.isfinite(mc.randn(2).tolist()).all()
    assert all(0 <= v < 1 for v in mc.rand(2).tolist())
    assert set(mc.nn.functional.dropout(mc.ones(64), 0.5).tolist()) <= {0.0, 2.0}
    mc.manual_seed(7)
    a = mc.randn(4).tolist()
    mc.manual_seed(7)
    in_thread(lambda: None)  # a thread that draws nothing changes nothing
    assert mc.randn(4).tolist() == a


@pytest.mark.parametrize("lib", [torch, mc], ids=["torch", "mlx_compat"])
def test_default_generator_is_shared_between_threads(lib):
    """torch's semantics: one default generator for the process. A draw in another thread advances the
    sequence the main thread sees after manual_seed; without it the sequence repeats."""
    lib.manual_seed(11)
    first = lib.randn(4).tolist()
    second = lib.randn(4).tolist()
    lib.manual_seed(11)
    from_worker = in_thread(lambda: lib.randn(4).tolist())
    after = lib.randn(4).tolist()
    assert from_worker == first  # the worker drew the seeded sequence's first draw
    assert after == second  # and the main thread continues where it left off


@pytest.mark.parametrize("lib", [torch, mc], ids=["torch", "mlx_compat"])
def test_concurrent_draws_are_each_a_distinct_valid_draw(lib):
    """A pool of workers drawing at once from the default generator gets exactly the draws a single thread
    would make from the same seed, in some order: no two draws share a state, none is lost."""
    n = 16
    lib.manual_seed(5)
    sequential = [lib.randn(3).tolist() for _ in range(n)]
    lib.manual_seed(5)
    start = threading.Barrier(4)  # the pool's first four draws start together

    def draw(i):
        if i < 4:
            start.wait()
        return lib.randn(3).tolist()

    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(draw, range(n)))
    assert sorted(concurrent) == sorted(sequential)
    after = lib.randn(3).tolist()
    lib.manual_seed(5)
    for _ in range(n):
        lib.randn(3)
    assert after == lib.randn(3).tolist()


_STRESS = """
import threading
import {mod} as torch
base = torch.ones(32, 32)
shared = [None]
errors = []
def work(k):
    try:
        for i in range(400):
            z = ((base * k + i) @ base * 2).sum()
            if i % 3 == 0:
                shared[0] = z
            s = shared[0]
            if s is not None:
                s.item()          # evaluates a graph another thread built, while others evaluate theirs
            z.tolist()
            base[k % 4, 0].add_(0)   # an in-place write into the shared tensor
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print("ERRORS", errors)
"""


@pytest.mark.parametrize("mod", ["torch", "mlx_compat"])
def test_concurrent_evaluation_does_not_crash(mod):
    """Four threads evaluating and writing shared tensors at once: concurrent evaluation on MLX's shared
    stream crashed the interpreter without the evaluation lock. Runs in a subprocess (a crash is a signal)."""
    code = textwrap.dedent(_STRESS).format(mod=mod)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "ERRORS []" in r.stdout, r.stdout + r.stderr[-2000:]


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts OS threads through /proc (Linux)")
def test_short_lived_threads_leave_no_streams_behind():
    """Every thread uses the shared streams: MLX alone starts a stream (an OS thread) for each Python thread
    that touches it and keeps it after the thread ends (300 threads left 300 OS threads behind)."""
    x = mc.ones(8)
    in_thread(lambda: (x * 2).sum().item())
    before = len(os.listdir("/proc/self/task"))
    for _ in range(60):
        in_thread(lambda: (x * 2).sum().item())
    # a few threads of other libraries may come and go meanwhile (a loaded CI worker once counted 3 more);
    # the defect this guards against leaves one thread per thread run, 60
    deadline = time.monotonic() + 2.0
    while len(os.listdir("/proc/self/task")) > before + 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(os.listdir("/proc/self/task")) <= before + 4


def test_checkpoint_saved_from_a_thread_while_the_main_thread_computes(tmp_path):
    """torch.save in a background thread (a common checkpointing idiom) of tensors written lazily in the
    main thread, while the main thread keeps evaluating; the file loads back to the saved values."""
    results = {}
    for lib in (torch, mc):
        w = lib.tensor(DATA) * 1
        w.add_(1)  # lazy
        path = tmp_path / f"{lib.__name__}.pt"
        saver = threading.Thread(target=lambda: lib.save({"w": w, "v": w[1]}, path))
        saver.start()
        for _ in range(20):
            (w @ w.T).sum().item()
        saver.join()
        loaded = lib.load(path)
        results[lib] = (values(loaded["w"]), values(loaded["v"]))
    for got, want in zip(results[mc], results[torch]):
        np.testing.assert_array_equal(got, want)


def _run_while_the_lock_is_held(call, ns):
    """Evaluate `call` in another thread while this one holds the evaluation lock: the call must still be waiting
    after 0.5 s, and finish once the lock is released. Returns its result."""
    done = threading.Event()
    out = {}

    def worker():
        out["r"] = eval(call, ns)
        done.set()

    mc._C._eval_lock_acquire()
    try:
        th = threading.Thread(target=worker)
        th.start()
        blocked = not done.wait(0.5)
    finally:
        mc._C._eval_lock_release()
    th.join(30)
    assert done.is_set() and blocked
    return out["r"]


@pytest.mark.parametrize("call", ["mc.eval(t)", "mc.linalg.inv(a)", "bn(x)"])
def test_evaluations_started_from_python_wait_for_the_evaluation_lock(call):
    """Note [Threads]: evaluations the package starts from its Python modules (the public `eval`, linalg's error
    checks, BatchNorm's periodic flush of running statistics) take the process-wide evaluation lock like the C
    core's, so they never run MLX's evaluation concurrently with another thread's. While this thread holds the
    lock, the call made in another thread must wait; once it is released the call finishes with torch's value."""
    from mlx_compat.nn.modules import batchnorm
    bn = mc.nn.BatchNorm1d(3)
    bn.train()
    x = mc.ones(4, 3)
    bn.__dict__["_pending_stat_updates"] = batchnorm._FLUSH_EVERY - 1  # the next forward flushes
    t = mc.ones(3) * 2
    a = mc.eye(3) * 2
    r = _run_while_the_lock_is_held(call, {"mc": mc, "t": t, "a": a, "bn": bn, "x": x})
    if call == "mc.linalg.inv(a)":
        np.testing.assert_allclose(r.numpy(), torch.linalg.inv(torch.eye(3) * 2).numpy())


@pytest.mark.parametrize("call", [
    "F.binary_cross_entropy(p, p)",        # the input and target range checks (nn/_loss.py)
    "F.multi_margin_loss(x, y)",           # the target range check
    "mc.allclose(p, p)",                   # elementwise.py's verdict
    "mc.special.zeta(p + 1.5, p + 1.0)",   # special.py's convergence checks
    "mc.histc(p, bins=4)",                 # reduction.py's bounds
    "mc.where(p > 0.1)",                   # operators.py's nonzero through numpy
    "F.embedding_bag(y, x.T, y[:1] * 0)",  # nn/_attention.py's offsets and indices through numpy
])
def test_value_reads_inside_ops_wait_for_the_evaluation_lock(call):
    """Note [Threads]: an op that reads a value it computed itself (a bound, a check's verdict) evaluates it under
    the evaluation lock (_tensor._mx_item): while another thread holds the lock, the call waits; after, it returns
    torch's result."""
    F = mc.nn.functional
    p, x, y = mc.full((2, 3), 0.25), mc.ones(2, 3), mc.tensor([0, 2])
    got = _run_while_the_lock_is_held(call, {"mc": mc, "F": F, "p": p, "x": x, "y": y})
    tns = {"mc": torch, "F": torch.nn.functional, "p": torch.full((2, 3), 0.25), "x": torch.ones(2, 3),
           "y": torch.tensor([0, 2])}
    ref = eval(call, tns)
    if isinstance(ref, tuple):
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            np.testing.assert_array_equal(g.numpy(), r.numpy())
    elif isinstance(ref, torch.Tensor):
        np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
    else:
        assert got == ref


# ---------------------------------------------------------------- Note [Known evaluated values]
class _EvalCalls:
    """Counts the mx.eval calls the core makes (it looks mx.eval up on the module at each evaluation)."""

    def __init__(self, monkeypatch):
        import mlx.core as mx

        self.n = 0
        real = mx.eval

        def spy(*args):
            self.n += 1
            return real(*args)

        monkeypatch.setattr(mx, "eval", spy)


def test_a_value_evaluated_again_makes_no_second_evaluation(monkeypatch):
    a, ta = mc.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    loss, tloss = (a * 2).sum(), (ta * 2).sum()
    calls = _EvalCalls(monkeypatch)
    mc.eval(loss)
    assert calls.n == 1
    mc.eval(loss)
    mc.eval([loss])
    assert calls.n == 1
    loss.add_(1)  # a write gives the tensor a new array: evaluated again
    tloss.add_(1)
    mc.eval(loss)
    assert calls.n == 2
    assert loss.item() == tloss.item()


def test_large_values_are_evaluated_every_time_and_not_kept(monkeypatch):
    x = mc.ones(100) * 3
    calls = _EvalCalls(monkeypatch)
    arr = x._mx
    before = sys.getrefcount(arr)
    mc.eval(x)
    mc.eval(x)
    assert calls.n == 2  # more than EVALUATED_MAX_SIZE elements: never listed
    assert sys.getrefcount(arr) == before


def test_known_values_are_not_kept_alive(monkeypatch):
    import weakref

    t = mc.tensor(2.0) * 3
    mc.eval(t)
    ref = weakref.ref(t._mx)
    calls = _EvalCalls(monkeypatch)
    mc.eval(t)
    assert calls.n == 0  # listed
    del t
    assert ref() is None  # the list holds it weakly: it went with its tensor


def test_the_list_of_known_values_is_bounded(monkeypatch):
    ts = [mc.tensor(float(i)) * 2 for i in range(20)]
    for t in ts:
        mc.eval(t)
    calls = _EvalCalls(monkeypatch)
    mc.eval(ts[-1])
    assert calls.n == 0
    mc.eval(ts[0])  # pushed out by the later ones: evaluated again, and right
    assert calls.n == 1
    assert [t.item() for t in ts] == [2.0 * i for i in range(20)]


def test_losses_of_a_step_and_of_a_compiled_step_are_not_evaluated_again(monkeypatch):
    tm = torch.nn.Linear(4, 3)
    m = mc.nn.Linear(4, 3)
    m.load_state_dict({k: mc.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    y = np.array([0, 2, 1, 2, 0])
    topt, opt = torch.optim.Adam(tm.parameters(), lr=0.1), mc.optim.Adam(m.parameters(), lr=0.1)

    def step(lib, model, o, xs, ys):
        o.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(xs), ys)
        loss.backward()
        o.step()
        return loss

    compiled = mc.compile(lambda xs, ys: step(mc, m, opt, xs, ys))
    mx_, my = mc.tensor(x), mc.tensor(y)
    for k in range(5):
        tl = step(torch, tm, topt, torch.tensor(x), torch.tensor(y))
        calls = _EvalCalls(monkeypatch)
        ol = step(mc, m, opt, mx_, my) if k < 2 else compiled(mx_, my)
        n = calls.n
        mc.eval(ol)  # evaluated by the optimizer's step (eager) or by the call program (compiled)
        assert calls.n == n
        monkeypatch.undo()
        assert ol.item() == pytest.approx(tl.item(), rel=1e-6)
