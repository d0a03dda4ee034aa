"""Note [Device scope] (csrc/overrides.c): where a GPU exists, Python-level functions and methods run on their
tensors' device, kept by the C TorchFunctionWrapper. The machinery is forced on here in subprocesses, with
MLX_COMPAT_DEVICE_SCOPE=1 (CPU tensors only: the scope is on, no stream is ever entered) and MLX_COMPAT_FAKE_GPU=1
(Note [Fake GPU]: 'cuda' tensors run on MLX's CPU, and their calls enter and leave mx.stream as on a real GPU).
Checked: the wrappers are transparent (identities between namespaces, signatures, pickling, warnings pointing at
the caller, no Python frame of their own, torch's errors), float64 composites on CPU tensors match torch, and the
stream bookkeeping (outermost call, nested calls, creation functions' device argument, exceptions, threads,
backward of 'cuda' tensors, __torch_function__ subclasses). The whole suite also passes with either variable set;
bench/gpu_check.py checks the GPU itself."""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = {"scope": {"MLX_COMPAT_DEVICE_SCOPE": "1"}, "fake_gpu": {"MLX_COMPAT_FAKE_GPU": "1"}}


def run_script(tmp_path, source, env_vars, timeout=300):
    script = tmp_path / "scope_check.py"
    script.write_text(textwrap.dedent(source))
    env = dict(os.environ, **env_vars)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [env.get("PYTHONPATH", ""), ROOT] if p)
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("ok"), proc.stdout[-3000:] + proc.stderr[-3000:]


TRANSPARENT = """
    import inspect, pickle, traceback, types, warnings
    import torch
    import mlx_compat as mc
    from mlx_compat import _C, _device_scope
    from mlx_compat._ops import elementwise as _elementwise
    from mlx_compat.nn import _loss

    assert _device_scope.ACTIVE and _C.DEVICE_SCOPE == 1
    W = _C.TorchFunctionWrapper
    # one C wrapper per function: the __torch_function__ check and the scope together, no Python wrapper inside
    for f in (mc.nan_to_num, mc.nn.functional.mse_loss, mc.Tensor.nan_to_num, mc.zeros, mc.ones_like, mc.Tensor.backward):
        assert type(f) is W and isinstance(f.__wrapped__, types.FunctionType), f
        assert not hasattr(f.__wrapped__, "__wrapped__"), f
    assert mc.nan_to_num._device_scope == 1 and mc.nan_to_num._checks_torch_function and mc.nan_to_num._device_scoped
    assert mc.zeros._device_scope == 2 and not mc.zeros._checks_torch_function, "creation: scope only, as torch ignores it"
    assert mc.ones_like._device_scope == 2 and mc.ones_like._checks_torch_function, "torch's zeros_like is overridable"
    assert mc.Tensor.backward._device_scope == 1 and not mc.Tensor.backward._checks_torch_function
    # functions that hold no tensor need no scope and keep torch's own errors (the BLAS thread controls)
    assert type(mc.set_num_threads) is types.FunctionType
    for bad, err in ((1.5, RuntimeError), (-1, RuntimeError)):
        for lib in (torch, mc):
            try:
                lib.set_num_threads(bad)
            except err:
                pass
            else:
                raise AssertionError((lib.__name__, bad))
    # identities between namespaces, methods, TORCH_VARIANTS tables
    assert mc.nan_to_num is _elementwise.nan_to_num
    assert mc.special.multigammaln._device_scoped
    assert mc.Tensor.nan_to_num is mc.nan_to_num, "a method and its function share one wrapper"
    assert mc.kl_div is _loss.TORCH_VARIANTS["kl_div"], "TORCH_VARIANTS tables are wrapped too"
    # torch's lists: creation functions stay ignored, ops stay overridable
    over = mc.overrides.get_overridable_functions()[mc]
    assert mc.nan_to_num in over and mc.zeros not in over and mc.ones_like in over
    # registry ops are C objects that run on their tensors' device themselves: not wrapped, still overridable
    assert type(mc.lgamma) is _C.Op and mc.lgamma in over
    assert torch.zeros in torch.overrides.get_ignored_functions() and mc.zeros in mc.overrides.get_ignored_functions()
    # signatures, names, pickling by reference
    for name in ("nan_to_num", "zeros", "ones_like"):
        ours, theirs = getattr(mc, name), getattr(torch, name)
        assert ours.__name__ == name and ours.__module__.startswith("mlx_compat")
        assert pickle.loads(pickle.dumps(ours)) is ours
    assert list(inspect.signature(mc.nn.functional.mse_loss).parameters) == \\
        list(inspect.signature(torch.nn.functional.mse_loss).parameters)
    # values and gradients as torch's
    assert mc.zeros(2, dtype=mc.float64).tolist() == torch.zeros(2, dtype=torch.float64).tolist()
    x = mc.tensor([0.5, 2.0], dtype=mc.float64, requires_grad=True)
    tx = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
    g, = mc.autograd.grad(mc.lgamma(x).sum(), x)
    tg, = torch.autograd.grad(torch.lgamma(tx).sum(), tx)
    assert abs(g[0].item() - tg[0].item()) < 1e-12 and abs(g[1].item() - tg[1].item()) < 1e-12
    # a warning points at the caller's line (_device_scope.warn; torch's own points into its functional.py)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        mc.nn.functional.mse_loss(mc.ones(2), mc.zeros(2), size_average=False)
    assert rec and rec[0].lineno == line and rec[0].filename == __file__, [(r.filename, r.lineno) for r in rec]
    assert str(rec[0].message).startswith("size_average and reduce args will be deprecated"), rec[0].message
    # the wrapper adds no Python frame: the traceback goes from this line into the function itself
    def frames_of(call):
        try:
            call()
        except Exception as e:  # noqa: BLE001
            return type(e), [f.filename for f in traceback.extract_tb(e.__traceback__)]
        raise AssertionError("no error")
    kind, files = frames_of(lambda: mc.nn.functional.mse_loss(mc.ones(2), mc.ones(3)))
    tkind = frames_of(lambda: torch.nn.functional.mse_loss(torch.ones(2), torch.ones(3)))[0]
    assert kind is tkind, (kind, tkind)
    assert files[:2] == [__file__, __file__] and files[2].endswith("_loss.py"), files  # the lambda, then mse_loss
    assert not any(f.endswith("_device_scope.py") for f in files), files
    # a bad device is torch's error, raised by the function itself
    for L in (torch, mc):
        try:
            L.tensor([1.0], device="nonsense")
        except RuntimeError:
            pass
        else:
            raise AssertionError("a bad device still raises torch's RuntimeError")
    print("ok")
"""


@pytest.mark.parametrize("mode", sorted(MODES))
def test_device_scope_wrappers_are_transparent(tmp_path, mode):
    run_script(tmp_path, TRANSPARENT, MODES[mode])


FLOAT64 = """
    import numpy as np
    import torch
    import mlx_compat as mc

    def same(a, b, rtol=1e-10):
        assert a.dtype == getattr(mc, str(b.dtype).split(".")[1]) and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=1e-12)

    rng = np.random.default_rng(0)
    v = rng.uniform(0.1, 3.0, (3, 3))
    for name in ("lgamma", "digamma", "erfinv", "special.i0e", "special.i1", "special.ndtri", "special.erfcx",
                 "matrix_exp"):
        def get(L):
            f = L
            for part in name.split("."):
                f = getattr(f, part)
            return f
        arg = v / 4 if name in ("erfinv", "special.ndtri") else v
        same(get(mc)(mc.tensor(arg)), get(torch)(torch.tensor(arg)))
    same(mc.special.polygamma(2, mc.tensor(v)), torch.special.polygamma(2, torch.tensor(v)))
    # gradcheck in float64 on CPU tensors (a Mac's GPU has no float64: these need the CPU scope)
    for f in (mc.lgamma, mc.special.i0e, mc.matrix_exp):
        x = mc.tensor(v, requires_grad=True)
        assert mc.autograd.gradcheck(f, (x,)), f
    # float64 backward through composites matches torch's
    x, tx = mc.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    mc.matrix_exp(x).sum().backward()
    torch.matrix_exp(tx).sum().backward()
    same(x.grad, tx.grad, rtol=1e-9)
    print("ok")
"""


@pytest.mark.parametrize("mode", sorted(MODES))
def test_float64_composites_on_cpu_tensors(tmp_path, mode):
    run_script(tmp_path, FLOAT64, MODES[mode])


BOOKKEEPING = """
    import threading
    import numpy as np
    import torch
    import mlx_compat as mc
    from mlx_compat import _C, _device_scope as ds

    state = _C._device_scope_state
    probe = ds.follow_tensors(lambda *a, **k: state())
    make = ds.follow_device_arg(lambda *a, **k: state())
    c, g = mc.ones(2), mc.ones(2, device="cuda")
    assert state() == (0, -1)
    # the outermost call: the first tensor (positional, first item of a list, then keyword values) decides
    assert probe(c) == (1, -1), "a tensor on the default device enters nothing"
    assert probe(g) == (1, 1) and probe(1, [g, c]) == (1, 1) and probe(1, x=g) == (1, 1) and probe(c, g) == (1, -1)
    assert probe(1, 2) == (1, -1), "no tensor: runs as is"
    assert state() == (0, -1), "left again"
    # nested calls inherit, whatever their tensors
    assert ds.follow_tensors(lambda t: probe(c))(g) == (1, 1)
    assert ds.follow_tensors(lambda t: probe(g))(c) == (1, -1)
    # creation functions always look: device=, else a tensor argument's, else the CPU
    assert make() == (0, -1) and make(device="cuda") == (0, 1) and make(device=mc.device("cuda")) == (0, 1)
    assert make(g) == (0, 1) and make(g, device="cpu") == (0, -1) and make(device=None) == (0, -1)
    assert ds.follow_tensors(lambda t: make())(g) == (1, 0), "a CPU creation inside a 'cuda' call"
    assert make(device="nonsense") == (0, -1), "a bad device runs unscoped (the function raises torch's error)"
    # _scoped, device_of
    assert _C._scoped(1, state) == (0, 1) and _C._scoped(None, state) == (0, -1) and _C._scoped(0, state) == (0, -1)
    assert ds.scoped(1, lambda *a, **k: (a, k), 2, z=3) == ((2,), {"z": 3})
    assert ds.device_of((1, [g]), {}) == 1 and ds.device_of((1,), {"a": c}) == 0 and ds.device_of((), None) is None
    for bad in (lambda: _C._scoped(5, state), lambda: _C._scoped(1), lambda: _C._tf_wrap(len, 7),
                lambda: _C._tf_wrap(3)):
        try:
            bad()
        except (ValueError, TypeError):
            pass
        else:
            raise AssertionError("bad arguments are refused")
    # an exception leaves the scope as it found it
    def boom(t):
        raise KeyError("inner")
    for w in (ds.follow_tensors(boom), ds.follow_device_arg(boom)):
        try:
            w(g)
        except KeyError:
            assert state() == (0, -1)
        else:
            raise AssertionError
    # threads keep their own scope: a thread started inside a 'cuda' call starts outside any
    seen = {}
    def worker():
        seen["fresh"] = state()
        seen["cpu"] = probe(c)
        seen["gpu"] = probe(g)
    def outer(t):
        th = threading.Thread(target=worker)
        th.start()
        th.join()
        return state()
    assert ds.follow_tensors(outer)(g) == (1, 1)
    assert seen == {"fresh": (0, -1), "cpu": (1, -1), "gpu": (1, 1)}, seen
    # the package's own calls on 'cuda' tensors: values, devices and gradients as on the CPU (and as torch's)
    v = np.linspace(-1.0, 2.0, 12, dtype=np.float32).reshape(3, 4)
    outs = {}
    for dev in ("cpu", "cuda"):
        x = mc.tensor(v, device=dev, requires_grad=True)
        y = mc.nn.functional.layer_norm(mc.nn.functional.gelu(x) * 2, (4,))
        loss = mc.nn.functional.mse_loss(y, mc.zeros(3, 4, device=dev)) + mc.logsumexp(x, 1).sum()
        loss.backward()
        assert y.device.type == dev and x.grad.device.type == dev and mc.ones_like(x).device.type == dev
        assert mc.zeros(2).device.type == "cpu" and mc.zeros(2, device=dev).device.type == dev
        outs[dev] = (y.detach().numpy(), x.grad.numpy())
        assert state() == (0, -1)
    tx = torch.tensor(v, requires_grad=True)
    ty = torch.nn.functional.layer_norm(torch.nn.functional.gelu(tx) * 2, (4,))
    (torch.nn.functional.mse_loss(ty, torch.zeros(3, 4)) + torch.logsumexp(tx, 1).sum()).backward()
    for dev in outs:
        np.testing.assert_allclose(outs[dev][0], ty.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(outs[dev][1], tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    # __torch_function__ subclasses of 'cuda' tensors: the protocol first, then the scope
    log = []
    class Logged(mc.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append((func.__name__, state()))
            return super().__torch_function__(func, types, args, kwargs or {})
    s = g.as_subclass(Logged)
    r = mc.nn.functional.mse_loss(s, g)
    assert type(r) is Logged and r.device.type == "cuda" and log[0] == ("mse_loss", (0, -1)), log
    assert state() == (0, -1)
    print("ok")
"""


def test_stream_bookkeeping_under_fake_gpu(tmp_path):
    run_script(tmp_path, BOOKKEEPING, MODES["fake_gpu"])


INACTIVE = """
    import mlx_compat as mc
    from mlx_compat import _C, _device_scope
    assert not _device_scope.ACTIVE and _C.DEVICE_SCOPE == 0
    assert type(mc.zeros).__name__ == "function", "nothing outside the protocol is wrapped without a GPU"
    assert mc.nan_to_num._device_scope == 0 and mc.nan_to_num._checks_torch_function
    # _scoped and the wrappers ignore the device where the scope is off
    assert _C._scoped(1, _C._device_scope_state) == (0, -1)
    assert _device_scope.follow_tensors(lambda t: _C._device_scope_state())(mc.ones(1)) == (0, -1)
    print("ok")
"""


def test_inactive_without_a_gpu(tmp_path):
    from mlx_compat import _C

    if _C.GPU_AVAILABLE and not _C.FAKE_GPU:
        pytest.skip("a GPU exists here: device scope is always on (the other tests cover it)")
    env = {k: "0" for k in ("MLX_COMPAT_DEVICE_SCOPE", "MLX_COMPAT_FAKE_GPU")}
    run_script(tmp_path, INACTIVE, env)


def test_gpu_check_under_fake_gpu():
    """bench/gpu_check.py (every family, outputs and gradients, 'cuda' against 'cpu') under Note [Fake GPU]:
    device placement and mixing are checked here; the real GPU's numbers are checked on one (BENCHMARKS.md)."""
    env = dict(os.environ, MLX_COMPAT_FAKE_GPU="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [env.get("PYTHONPATH", ""), ROOT] if p)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gpu_check.py")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


LAYER_NORM_PATHS = """
    import numpy as np, torch
    import mlx.core as mx
    import mlx_compat as mc

    calls = []
    real = mx.fast.layer_norm
    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)
    mx.fast.layer_norm = counting

    torch.manual_seed(0)
    tm = torch.nn.LayerNorm(16, eps=1e-6)
    with torch.no_grad():
        tm.weight.normal_(), tm.bias.normal_()
    x = torch.randn(3, 5, 16)
    om = mc.nn.LayerNorm(16, eps=1e-6)
    om.load_state_dict({k: mc.from_numpy(v.numpy()) for k, v in tm.state_dict().items()})
    om.to("cuda").eval()
    ox = mc.from_numpy(x.numpy()).to("cuda")
    with mc.no_grad():  # Parameters, but nothing records: GPU inference takes MLX's fused kernel
        y = om(ox)
    assert calls == [1], calls
    np.testing.assert_allclose(y.cpu().numpy(), tm(x).detach().numpy(), rtol=1e-5, atol=1e-5)
    y = om(ox)  # grad enabled and the weight requires grad: the composed core (Note [fused layer_norm])
    assert calls == [1] and y.requires_grad, calls
    y.sum().backward()
    tm(x).sum().backward()
    np.testing.assert_allclose(om.weight.grad.cpu().numpy(), tm.weight.grad.numpy(), rtol=1e-5, atol=1e-5)
    print("ok")
"""


def test_layer_norm_inference_takes_the_fused_kernel_under_no_grad(tmp_path):
    """Note [fused layer_norm]: on the GPU, a layer norm that records nothing (no_grad, even with Parameter
    weights) runs mx.fast.layer_norm; one that may be differentiated runs the composed core."""
    run_script(tmp_path, LAYER_NORM_PATHS, {"MLX_COMPAT_FAKE_GPU": "1"})
