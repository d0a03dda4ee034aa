"""Memory / reference leaks.

Pins: creating, viewing (view / transpose / getitem / reshape / unsqueeze)
and dropping many tensors keeps Python-level memory (tracemalloc), the number
of live Python objects and MLX's active memory flat; ops don't leak references
on their inputs (sys.getrefcount unchanged after 1000 calls); tensors are
freed as soon as the last reference goes (weakref), views keep their base
alive exactly as long as needed. The comparison point is torch's own
behaviour (tensors are weak-referenceable and freed by refcount, no gc needed).

Sizes: N_TENSORS (default one million: 200k iterations x 5 tensors, about
1 s here since views and creations are lazy) tensors in the flat-memory loop;
set MLX_COMPAT_LEAK_N to change it.
"""
import gc
import os
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

from helpers import mc, torch

N_TENSORS = int(os.environ.get("MLX_COMPAT_LEAK_N", "1000000"))


def _active_memory():
    try:
        import mlx.core as mx
    except ImportError:  # pragma: no cover
        return 0
    f = getattr(mx, "get_active_memory", None) or getattr(getattr(mx, "metal", None), "get_active_memory", None)
    return f() if f else 0


def _churn(n_iter, seed=0):
    base = mc.arange(24.0).reshape(2, 3, 4)
    for i in range(n_iter):
        a = mc.zeros(4, 6)           # 1 new tensor
        v = a.view(6, 4)             # 2 view
        t = v.t()                    # 3 transpose
        g = t[1:3, ::2]              # 4 getitem
        r = base.reshape(6, 4) if i & 1 else g.unsqueeze(0)  # 5 reshape / unsqueeze
        del a, v, t, g, r
    mc.synchronize()


def _rss_kb():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except OSError:  # pragma: no cover
        return 0


def test_create_view_drop_memory_flat():
    iters = N_TENSORS // 5
    _churn(2000)  # warm-up: caches, interned objects, allocator pools
    _active_memory()  # imports mlx.core on first call
    _rss_kb()
    gc.collect()
    objs0 = len(gc.get_objects())
    mem0 = _active_memory()
    rss0 = _rss_kb()
    _churn(iters)
    gc.collect()
    objs1 = len(gc.get_objects())
    mem1 = _active_memory()
    rss1 = _rss_kb()
    assert objs1 - objs0 < 200, f"{objs1 - objs0} Python objects left behind after {iters * 5} tensors"
    assert mem1 - mem0 < (1 << 20), f"MLX active memory grew by {mem1 - mem0} bytes"
    # a million leaked tensors of >= 96 bytes each would be ~100 MB
    assert rss1 - rss0 < 16 * 1024, f"RSS grew by {rss1 - rss0} kB"


def test_tracemalloc_flat():
    _churn(1000)
    gc.collect()
    tracemalloc.start()
    try:
        _churn(200)
        gc.collect()
        s0 = tracemalloc.get_traced_memory()[0]
        _churn(20000)
        gc.collect()
        s1 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # 100k leaked tensors would be several MB; allow 256 kB slack
    assert s1 - s0 < 256 * 1024, f"Python-level memory grew by {s1 - s0} bytes over 100k tensors"


def test_big_tensors_freed():
    # 100 x 4 MB: if any are retained, active memory shows it
    _ = mc.ones(1024, 1024) + 1
    del _
    mc.synchronize()
    gc.collect()
    m0 = _active_memory()
    for _ in range(100):
        x = mc.ones(1024, 1024) * 2
        y = x.t()[::2]
        z = y + 1
        float(z[0, 0])
        del x, y, z
    mc.synchronize()
    gc.collect()
    m1 = _active_memory()
    assert m1 - m0 < (8 << 20), f"active memory grew by {m1 - m0} bytes"


@pytest.mark.parametrize("n", [2, 3, 5])
def test_joined_inputs_freed_after_cat_and_stack(n):
    """Note [Reused value tuples] (csrc/shape.c): the tuple cat/stack hand MLX is kept for reuse, emptied after each
    call, so the last call's inputs are not kept alive (5 inputs: beyond the kept lengths, a fresh tuple)."""
    mc.synchronize()
    gc.collect()
    m0 = _active_memory()
    for _ in range(3):
        xs = [mc.ones(1024, 1024) * (i + 1) for i in range(n)]
        mc.eval(*xs)
        c = mc.cat(xs)
        s = mc.stack(xs, 1)
        mc.eval(c, s)
        del xs, c, s
    mc.synchronize()
    gc.collect()
    m1 = _active_memory()
    assert m1 - m0 < (2 << 20), f"active memory grew by {m1 - m0} bytes"


REFCOUNT_OPS = [
    ("add", lambda x, y: x + y), ("radd", lambda x, y: 2 + x), ("mul_fn", lambda x, y: mc.mul(x, y)),
    ("matmul", lambda x, y: x @ y.t()), ("view", lambda x, y: x.view(-1)), ("t", lambda x, y: x.t()),
    ("getitem_int", lambda x, y: x[0]), ("getitem_slice", lambda x, y: x[:, 1:]),
    ("getitem_tensor", lambda x, y: x[mc.tensor([0, 1])]), ("getitem_mask", lambda x, y: x[x > 2]),
    ("reshape", lambda x, y: x.reshape(4, 3)), ("unsqueeze", lambda x, y: x.unsqueeze(0)),
    ("shape", lambda x, y: x.shape), ("dtype", lambda x, y: x.dtype), ("stride", lambda x, y: x.stride()),
    ("sum", lambda x, y: x.sum()), ("item", lambda x, y: x[0, 0].item()), ("tolist", lambda x, y: x.tolist()),
    ("numpy", lambda x, y: x.numpy()), ("to", lambda x, y: x.to(mc.float64)), ("eq", lambda x, y: x == y),
    ("cat", lambda x, y: mc.cat([x, y])), ("stack", lambda x, y: mc.stack((x, y))),
    ("split", lambda x, y: x.split(1)), ("unbind", lambda x, y: x.unbind(1)), ("expand", lambda x, y: x[:1].expand(5, 4)),
    ("clone", lambda x, y: x.clone()), ("contiguous", lambda x, y: x.t().contiguous()),
    ("where", lambda x, y: mc.where(x > 1, x, y)), ("repr", lambda x, y: repr(x)), ("bool", lambda x, y: bool(x[0, 0])),
    ("len", lambda x, y: len(x)), ("iter", lambda x, y: list(x)), ("is_contiguous", lambda x, y: x.is_contiguous()),
    ("storage_offset", lambda x, y: x[1:].storage_offset()), ("data_ptr", lambda x, y: x.data_ptr()),
    # reinterpreted views (Note [Reinterpreted views]): made, read, written through, and failing
    ("view_dtype", lambda x, y: x.view(mc.int32)), ("view_dtype_write", lambda x, y: x.clone().view(mc.int32).fill_(1)),
    ("view_as_real", lambda x, y: mc.view_as_real(x.to(mc.complex64))),
    ("view_as_complex", lambda x, y: mc.view_as_complex(x[:, :2])),
    ("view_as_complex_write", lambda x, y: mc.view_as_complex(x.clone()[:, :2]).mul_(2)),
    ("error_view_dtype", lambda x, y: x.t().view(mc.int16)),
    ("error", lambda x, y: x.view(5)),  # raising paths must release references too
    ("error_binop", lambda x, y: x + mc.ones(7)),
]


@pytest.mark.parametrize("name,op", REFCOUNT_OPS, ids=[c[0] for c in REFCOUNT_OPS])
def test_no_reference_leak_on_inputs(name, op):
    x = mc.arange(12.0).reshape(3, 4)
    y = mc.ones(3, 4)
    if not name.startswith("error"):
        op(x, y)  # must work (else this test would pass vacuously)
    else:
        with pytest.raises(Exception):
            op(x, y)
    for _ in range(5):  # warm caches
        try:
            op(x, y)
        except Exception:  # noqa: BLE001
            pass
    rx, ry = sys.getrefcount(x), sys.getrefcount(y)
    for _ in range(1000):
        try:
            r = op(x, y)
            del r
        except Exception:  # noqa: BLE001
            pass
    assert sys.getrefcount(x) == rx, f"{name}: refcount of x grew by {sys.getrefcount(x) - rx}"
    assert sys.getrefcount(y) == ry, f"{name}: refcount of y grew by {sys.getrefcount(y) - ry}"


def test_inplace_returns_self_without_leaking():
    x = mc.zeros(3)
    r0 = sys.getrefcount(x)
    for _ in range(1000):
        x.add_(1)
        x.mul_(1)
        x[0] = 2.0
        x += 1
    assert sys.getrefcount(x) == r0


def test_dtype_and_device_objects_not_leaked():
    x = mc.zeros(2)
    d = x.dtype
    r0 = sys.getrefcount(d)
    for _ in range(1000):
        _ = x.dtype
        _ = mc.zeros(1, dtype=d)
        _ = x.to(d)
    del _
    assert sys.getrefcount(d) == r0


@pytest.mark.parametrize("lib", ["torch", "mlx_compat"])
def test_tensors_freed_by_refcount_like_torch(lib):
    # torch tensors are weak-referenceable and die by refcount, without gc
    L = torch if lib == "torch" else mc
    gc.disable()
    try:
        m = L.ones(3)
        w = weakref.ref(m)
        del m
        assert w() is None, "tensor not freed when its last reference went away"
        b = L.ones(4, 4)
        wb = weakref.ref(b)
        v = b.t()[1:]
        wv = weakref.ref(v)
        del b
        # the view keeps its storage alive and stays correct
        np.testing.assert_array_equal(v.numpy(), np.ones((3, 4), dtype=np.float32))
        del v
        assert wv() is None
        assert wb() is None, "base tensor kept alive after all its views died"
        r = L.ones(2) + L.ones(2)
        wr = weakref.ref(r)
        del r
        assert wr() is None
    finally:
        gc.enable()
