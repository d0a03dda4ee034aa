"""dtype objects, finfo/iinfo, default dtype and device objects vs PyTorch.

Pins: dtype aliases are the same objects (float is float32, ...); dtype
properties (is_floating_point, is_complex, is_signed, itemsize, to_real,
to_complex) and repr/str; dtypes are hashable and compare by identity;
finfo/iinfo fields and errors; get/set_default_dtype; device construction,
str/repr/type/index/equality/hash and bad-device errors; tensor .device /
is_cuda / is_mps / is_cpu / get_device / cpu(); cuda/mps availability is
False on this Linux CPU machine; moving to cuda raises.
"""
import pickle

import pytest

from helpers import DTYPE_NAMES, assert_raises_same, mc, run_fake_gpu, torch, src_id

ALIASES = [("float", "float32"), ("double", "float64"), ("half", "float16"), ("short", "int16"),
           ("int", "int32"), ("long", "int64"), ("cfloat", "complex64")]


@pytest.mark.parametrize("alias,name", ALIASES)
def test_dtype_aliases(alias, name):
    assert (getattr(torch, alias) is getattr(torch, name))  # torch's own fact
    assert getattr(mc, alias) is getattr(mc, name)


@pytest.mark.parametrize("name", DTYPE_NAMES + ["float", "double", "half", "long"])
def test_dtype_properties(name):
    dm, dt = getattr(mc, name), getattr(torch, name)
    assert repr(dm) == repr(dt)
    assert str(dm) == str(dt)
    for attr in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(dm, attr) == getattr(dt, attr), attr
    assert dm == dm and hash(dm) == hash(dm)
    assert mc.ones(1, dtype=dm).dtype is dm  # tensors hand back the singleton
    assert mc.ones(1, dtype=dm).element_size() == torch.ones(1, dtype=dt).element_size()
    assert mc.ones(1, dtype=dm).is_floating_point() == torch.ones(1, dtype=dt).is_floating_point()
    assert mc.ones(1, dtype=dm).is_complex() == torch.ones(1, dtype=dt).is_complex()


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64", "int32", "bool"])
def test_dtype_to_real_to_complex(name):
    dm, dt = getattr(mc, name), getattr(torch, name)
    assert str(dm.to_real()) == str(dt.to_real())
    if dt.is_floating_point or dt.is_complex:
        # torch: float16 -> complex32, float64 -> complex128. MLX has neither: complex64 stands in for
        # complex32 (same values), and complex128 is refused with TypeError (README, known differences)
        want = str(dt.to_complex())
        if want == "torch.complex128":
            with pytest.raises(TypeError):
                dm.to_complex()
        else:
            assert str(dm.to_complex()) == want.replace("complex32", "complex64")
    else:
        assert_raises_same(lambda: dt.to_complex(), lambda: dm.to_complex())


def test_dtypes_distinct_and_usable_as_keys():
    ds = [getattr(mc, n) for n in DTYPE_NAMES]
    assert len(set(ds)) == len(ds)
    assert mc.float32 != mc.float64
    assert {mc.float32: 1}[mc.float] == 1
    assert isinstance(mc.float32, mc.dtype)
    assert type(mc.float32) is type(mc.int64)
    assert pickle.loads(pickle.dumps(mc.float16)) is mc.float16


FINFO_FIELDS = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution")


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64"])
def test_finfo(name):
    fm, ft = mc.finfo(getattr(mc, name)), torch.finfo(getattr(torch, name))
    for f in FINFO_FIELDS:
        assert getattr(fm, f) == getattr(ft, f), f
    assert fm.dtype == ft.dtype  # torch: a string like 'float32'


def test_finfo_default():
    fm, ft = mc.finfo(), torch.finfo()
    assert fm.dtype == ft.dtype and fm.eps == ft.eps
    mc.set_default_dtype(mc.float64)
    torch.set_default_dtype(torch.float64)
    assert mc.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    im, it = mc.iinfo(getattr(mc, name)), torch.iinfo(getattr(torch, name))
    for f in ("bits", "max", "min"):
        assert getattr(im, f) == getattr(it, f), f
    assert im.dtype == it.dtype


@pytest.mark.parametrize("fn", [
    lambda L: L.iinfo(L.float32), lambda L: L.finfo(L.int32), lambda L: L.iinfo(L.bool),
    lambda L: L.finfo("float32"), lambda L: L.finfo(L.bool),
], ids=src_id)
def test_info_errors(fn):
    assert_raises_same(lambda: fn(torch), lambda: fn(mc))


@pytest.mark.parametrize("name", ["float32", "float64"])
def test_default_dtype(name):
    assert str(mc.get_default_dtype()) == str(torch.get_default_dtype())
    mc.set_default_dtype(getattr(mc, name))
    torch.set_default_dtype(getattr(torch, name))
    assert mc.get_default_dtype() is getattr(mc, name)
    bad = []
    for f in (lambda L: L.tensor(1.5), lambda L: L.zeros(2), lambda L: L.arange(2.0), lambda L: L.tensor([1, 2.5]),
              lambda L: L.rand(2), lambda L: L.ones(2, dtype=None), lambda L: L.tensor(1.0j),
              lambda L: L.tensor(3), lambda L: L.full((1,), 2.0), L_empty):
        try:
            got = str(f(mc).dtype)
        except Exception as e:  # noqa: BLE001
            got = f"{type(e).__name__}: {e}"
        if f(torch).dtype == torch.complex128:
            # MLX has no complex128: ours must refuse with TypeError (README, known differences)
            if not got.startswith("TypeError"):
                bad.append(f"{src_id(f)}: torch complex128, ours should raise TypeError, got {got}")
            continue
        if got != str(f(torch).dtype):
            bad.append(f"{src_id(f)}: torch {f(torch).dtype}, ours {got}")
    assert not bad, "\n".join(bad)


def L_empty(L):
    return L.empty(1)


def test_set_default_dtype_errors():
    for bad in ("int64", "bool", "complex64"):
        assert_raises_same(lambda: torch.set_default_dtype(getattr(torch, bad)),
                           lambda: mc.set_default_dtype(getattr(mc, bad)))
    assert_raises_same(lambda: torch.set_default_dtype("float32"), lambda: mc.set_default_dtype("float32"))
    assert mc.get_default_dtype() is mc.float32


DEVICE_ARGS = [("cpu",), ("cuda", 0), ("cuda:1",), ("cuda",), ("mps",), ("cpu", 0), ("meta",), ("cpu:0",)]


@pytest.mark.parametrize("args", DEVICE_ARGS, ids=[str(a) for a in DEVICE_ARGS])
def test_device_objects(args):
    dm, dt = mc.device(*args), torch.device(*args)
    assert str(dm) == str(dt)
    assert repr(dm) == repr(dt)
    assert dm.type == dt.type
    assert dm.index == dt.index
    assert dm == mc.device(*args)
    assert hash(dm) == hash(mc.device(*args))
    assert isinstance(dm, mc.device)


def test_device_equality_and_kwargs():
    assert mc.device("cpu") != mc.device("cuda")
    assert (mc.device("cuda", 0) == mc.device("cuda:0")) == (torch.device("cuda", 0) == torch.device("cuda:0"))
    assert (mc.device("cpu") == mc.device("cpu", 0)) == (torch.device("cpu") == torch.device("cpu", 0))
    assert str(mc.device(type="cuda", index=2)) == str(torch.device(type="cuda", index=2))
    assert str(mc.device(mc.device("cuda:3"))) == str(torch.device(torch.device("cuda:3")))


@pytest.mark.parametrize("args", [("foo",), ("cuda:-1",), ("cuda", -1), ("cuda:x",), (1.5,), ("cpu", "a"), ()],
                         ids=["foo", "cuda:-1", "cuda,-1", "cuda:x", "float", "cpu,a", "noargs"])
def test_device_errors(args):
    assert_raises_same(lambda: torch.device(*args), lambda: mc.device(*args))


def test_tensor_device_attrs():
    xm, xt = mc.ones(2), torch.ones(2)
    assert str(xm.device) == str(xt.device) == "cpu"
    assert isinstance(xm.device, mc.device)
    assert xm.device == mc.device("cpu")
    assert xm.is_cuda is False and xt.is_cuda is False
    assert xm.is_mps is False
    assert xm.is_cpu is True
    assert xm.get_device() == xt.get_device()
    assert xm.cpu() is xm
    assert xm.to("cpu") is xm and xm.to(mc.device("cpu")) is xm
    assert str(mc.ones(2, device="cpu").device) == "cpu"
    assert str(mc.zeros(2, device=mc.device("cpu")).device) == "cpu"
    assert str(mc.tensor([1], device="cpu").device) == "cpu"
    assert str(mc.arange(3, device="cpu").device) == "cpu"


def test_cpu_cuda_and_to_of_a_tensor_already_there_is_itself():
    """torch's x.cuda() on a CUDA tensor, x.cpu() on a CPU one and x.to(its own device) return x itself; a move
    makes a new tensor with the same values. Under the fake GPU (Note [Fake GPU]), where 'cuda' exists."""
    out = run_fake_gpu("""
import mlx_compat as mc
x = mc.arange(4.0, device="cuda")
c = x.cpu()
print(x.cuda() is x, x.cuda(0) is x, c is x, c.device.type, c.cpu() is c, c.cuda() is c, c.cuda().device.type,
      c.cuda().tolist())
same = [x.to(d) is x for d in ("cuda", "cuda:0", "mps", "gpu", mc.device("cuda"), mc.device("cuda", 0))]
moved = [x.to(d) for d in ("cpu", mc.device("cpu"))] + [c.to(d) for d in ("cuda", mc.device("cuda", 0))]
print(all(same), [m.device.type for m in moved], all(m is not x and m is not c for m in moved))
""")
    lines = out.strip().splitlines()
    assert lines[0].split() == ["True", "True", "False", "cpu", "True", "False", "cuda", "[0.0,", "1.0,", "2.0,",
                                "3.0]"]
    assert lines[1] == "True ['cpu', 'cpu', 'cuda', 'cuda'] True"


def test_accelerators_tell_the_truth():
    """cuda.is_available() is MLX's CUDA backend, backends.mps.is_available() its Metal one (rule 5)."""
    import mlx.core as mx

    if mc._C.FAKE_GPU:
        pytest.skip("the fake GPU reports a GPU on purpose (Note [Fake GPU] in csrc/module.c)")
    cuda = bool(getattr(mx, "cuda", None) and mx.cuda.is_available())
    assert mc.cuda.is_available() is cuda
    assert mc.backends.mps.is_available() is mx.metal.is_available()
    assert mc.cuda.device_count() == (1 if cuda else 0)
    if not cuda:
        assert torch.cuda.device_count() == 0 or not torch.cuda.is_available()


@pytest.mark.skipif(mc._C.GPU_AVAILABLE, reason="an MLX GPU (or the fake one) is here: 'cuda' is available")
@pytest.mark.parametrize("fn", [
    lambda L: L.ones(2).to("cuda"), lambda L: L.ones(2).cuda(), lambda L: L.ones(2, device="cuda"),
    lambda L: L.ones(2).to(L.device("cuda", 0)), lambda L: L.tensor([1.0], device="cuda:0"),
], ids=src_id)
def test_cuda_unavailable_raises(fn):
    with pytest.raises((RuntimeError, AssertionError)):
        fn(torch)
    with pytest.raises((RuntimeError, AssertionError)):
        fn(mc)


# ---------------------------------------------------------------- Note [CPU buffer cache] (_device.py)

_CACHE_SCRIPT = r"""
import sys, mlx.core as mx
if len(sys.argv) > 1:
    mx.set_cache_limit(int(sys.argv[1]))
import mlx_compat
from mlx_compat import _device
print(mx.set_cache_limit(0), _device.CPU_CACHE_LIMIT)
"""


def _cache_limit_after_import(env=None, before=None):
    import os
    import subprocess
    import sys
    e = dict(os.environ)
    e.pop("MLX_COMPAT_CPU_CACHE_MB", None)
    e.update(env or {})
    r = subprocess.run([sys.executable, "-c", _CACHE_SCRIPT] + ([str(before)] if before is not None else []),
                       env=e, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    limit, set_by_us = r.stdout.split()
    return int(limit), set_by_us


@pytest.mark.skipif(mc._device.GPU_AVAILABLE, reason="a GPU backend's allocator sizes its own cache")
def test_cpu_buffer_cache_limit():
    """MLX's CPU-only build caches 32 MiB of freed buffers; the import raises that to 1 GiB unless the variable
    says otherwise or the user set a limit before the import."""
    assert _cache_limit_after_import() == (1 << 30, str(1 << 30))
    assert _cache_limit_after_import({"MLX_COMPAT_CPU_CACHE_MB": "256"}) == (256 << 20, str(256 << 20))
    for off in ("0", "off"):
        assert _cache_limit_after_import({"MLX_COMPAT_CPU_CACHE_MB": off}) == (32 << 20, "None")
    assert _cache_limit_after_import(before=5 << 20) == (5 << 20, "None")
    assert _cache_limit_after_import({"MLX_COMPAT_FAKE_GPU": "1"})[0] == 1 << 30  # the fake GPU is MLX's CPU


def test_cpu_buffer_cache_variable_must_be_a_number():
    import os
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", "import mlx_compat"], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, MLX_COMPAT_CPU_CACHE_MB="lots"))
    assert r.returncode != 0 and "MLX_COMPAT_CPU_CACHE_MB must be a whole number" in r.stderr


def test_default_device_on_the_cpu_as_torch():
    """torch.set_default_device / get_default_device and `with torch.device(...)` (Note [Default device])."""
    for L in (torch, mc):
        assert str(L.get_default_device()) == "cpu"
        with L.device("cpu"):
            assert L.zeros(1).device.type == "cpu"
        L.set_default_device("cpu")
        x = L.ones(2)
        assert L.as_tensor(x) is x  # already on the default device: itself
        L.set_default_device(None)
        assert str(L.get_default_device()) == "cpu"


@pytest.mark.skipif(mc.cuda.is_available(), reason="torch's answers without a GPU (this CPU, torch's CPU build)")
def test_gpu_devices_without_a_gpu_as_torchs_cpu_build():
    """Without a GPU, 'cuda' anywhere raises torch's AssertionError (its CPU build's lazy CUDA init) and 'mps' its
    RuntimeError; set_default_device('cuda') and `with torch.device('cuda')` are accepted and each factory call
    (and get_default_device) raises, as torch's."""
    calls = [
        lambda L: L.ones(2, device="cuda"), lambda L: L.ones(2).to("cuda"), lambda L: L.ones(2).cuda(),
        lambda L: L.ones(2, device="cuda:1"), lambda L: L.ones(2).to("mps"), lambda L: L.nn.Linear(2, 2).cuda(),
        lambda L: L.tensor([1.0], device="cuda"), lambda L: L.zeros(2, device=L.device("cuda")),
        lambda L: L.zeros(2).to(0), lambda L: L.zeros(2).to(1), lambda L: L.zeros(2).to(-100),  # accelerator indices
    ]
    outcomes = []
    for L in (torch, mc):
        out = []

        def run(f):
            try:
                r = f()
                out.append(("ok", str(r.device) if hasattr(r, "device") else str(r)))
            except Exception as e:  # noqa: BLE001
                out.append((type(e).__name__, str(e)))

        for c in calls:
            run(lambda: c(L))
        try:
            L.set_default_device("cuda")
            run(lambda: L.ones(2))
            run(L.get_default_device)
            run(lambda: L.ones(2, device="cpu"))
        finally:
            L.set_default_device(None)
        with L.device("cuda"):
            run(lambda: L.zeros(1))
        run(lambda: L.zeros(1))
        outcomes.append(out)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == ("AssertionError", "Torch not compiled with CUDA enabled")


def test_default_device_gpu_under_the_fake_gpu():
    """The factories create on the default device; from_numpy and the *_like factories keep their source's
    device; as_tensor moves a tensor to it; per thread; `with torch.device` nests and restores."""
    from helpers import fake_gpu_json

    got = fake_gpu_json("""
import json, threading, numpy as np, mlx_compat as t
t.set_default_device('cuda')
made = {'zeros': t.zeros(2), 'tensor': t.tensor([1, 2]), 'arange': t.arange(3), 'randn': t.randn(2),
        'eye': t.eye(2), 'linear': t.nn.Linear(2, 2).weight, 'as_tensor': t.as_tensor(t.zeros(2, device='cpu')),
        'from_numpy': t.from_numpy(np.ones(2)), 'zeros_like': t.zeros_like(t.zeros(2, device='cpu'))}
res = {k: v.device.type for k, v in made.items()}
res['default'] = str(t.get_default_device())
other = []
th = threading.Thread(target=lambda: other.append(t.zeros(1).device.type))
th.start(); th.join()
res['other_thread'] = other[0]
t.set_default_device(None)
with t.device('cuda'):
    inside = t.zeros(1).device.type
    with t.device('cpu'):
        nested = t.zeros(1).device.type
    res['ctx'] = [inside, nested, t.zeros(1).device.type]
res['after'] = t.zeros(1).device.type
print(json.dumps(res))
""")
    assert got == {"zeros": "cuda", "tensor": "cuda", "arange": "cuda", "randn": "cuda", "eye": "cuda",
                   "linear": "cuda", "as_tensor": "cuda", "from_numpy": "cpu", "zeros_like": "cpu",
                   "default": "cuda:0", "other_thread": "cpu", "ctx": ["cuda", "cpu", "cuda"], "after": "cpu"}
