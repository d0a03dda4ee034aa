"""Ops that read values for torch's eager errors stay traceable by MLX (Note [No evaluation while tracing]
in csrc/mxcall.c): integer `//` and `%` by a tensor, index_select / gather / scatter bounds checks run
under mx.compile and mx.vmap on our tensors' arrays (the checks are skipped there; the values are torch's),
while eagerly and under mx.vjp (which has values) the same bad inputs raise torch's errors."""
import mlx.core as mx
import numpy as np
import pytest

from helpers import mc, torch

A = np.array([[7, -7, 9], [5, 12, -3]], dtype=np.int64)
B = np.array([[2, 3, -4], [5, -5, 2]], dtype=np.int64)
X = np.arange(12, dtype=np.float32).reshape(3, 4) / 3
IDX = np.array([2, 0, 1, 2], dtype=np.int64)


def _ours(fn):
    """fn over our tensors, as a function of raw mx.arrays (what a compiled step sees)."""
    def f(*arrays):
        return fn(mc, *[mc._C._wrap(a) for a in arrays])._mx

    return f


def _torch(fn, *arrays):
    return fn(torch, *[torch.from_numpy(np.asarray(a)) for a in arrays]).numpy()


CASES = {
    "a // b": (lambda L, a, b: a // b, (A, B)),
    "a % b": (lambda L, a, b: a % b, (A, B)),
    "floor_divide": (lambda L, a, b: L.floor_divide(a, b), (A, B)),
    "remainder": (lambda L, a, b: L.remainder(a, b), (A, B)),
    "index_select": (lambda L, x, i: L.index_select(x, 1, i), (X, IDX)),
    "gather": (lambda L, x, i: L.gather(x, 1, i.reshape(1, 4).expand(3, 4)), (X, IDX)),
    "scatter": (lambda L, x, i: L.zeros(3, 4).scatter(1, i[:3].reshape(3, 1), x[:, :1]), (X, IDX)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_compiled(name):
    fn, inputs = CASES[name]
    arrays = [mx.array(a) for a in inputs]
    got = mx.compile(_ours(fn))(*arrays)
    np.testing.assert_array_equal(np.array(got), _torch(fn, *inputs))


@pytest.mark.parametrize("name", ["a // b", "a % b", "index_select"])
def test_vmapped(name):
    fn, inputs = CASES[name]
    if name == "index_select":
        row = lambda L, x, i: L.index_select(x, 0, i)  # noqa: E731
        got = mx.vmap(_ours(row), in_axes=(0, None))(mx.array(X), mx.array(IDX[:3]))
        expect = np.stack([_torch(row, X[k], IDX[:3]) for k in range(3)])
    else:
        got = mx.vmap(_ours(fn))(*[mx.array(a) for a in inputs])
        expect = _torch(fn, *inputs)
    np.testing.assert_array_equal(np.array(got), expect)


def test_vjp_through_index_select_and_integer_ops():
    def f(L, x, a, b, i):
        q = (a // b + a % b).to(x.dtype)  # integer ops on traced arrays
        return (L.index_select(x, 1, i) * q.sum()).sum()

    xt = torch.from_numpy(X).requires_grad_(True)
    f(torch, xt, *[torch.from_numpy(v) for v in (A, B, IDX)]).backward()

    def g(x):
        return _ours(lambda L, x_: f(L, x_, mc.from_numpy(A), mc.from_numpy(B), mc.from_numpy(IDX)))(x)

    out, (grad,) = mx.vjp(g, [mx.array(X)], [mx.array(1.0)])
    np.testing.assert_allclose(np.array(grad), xt.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("bad", [
    lambda L: L.tensor([4, 5]) // L.tensor([1, 0]),
    lambda L: L.tensor([4, 5]) % L.tensor([0, 1]),
    lambda L: L.gather(L.ones(2, 3), 1, L.tensor([[3]])),
    lambda L: L.zeros(2, 3).scatter(1, L.tensor([[5]]), L.ones(1, 1)),
], ids=["floordiv0", "mod0", "gather", "scatter"])
def test_eager_checks_still_raise_as_torch(bad):
    with pytest.raises(Exception) as t_err:
        bad(torch)
    with pytest.raises(Exception) as m_err:
        bad(mc)
    assert type(m_err.value) is type(t_err.value)


def test_vjp_has_values_so_checks_run():
    """mx.vjp runs the function on real values: the bounds check still raises torch's error there."""
    def bad(L, x):
        return L.gather(x, 1, L.tensor([[7]]))

    with pytest.raises(RuntimeError) as t_err:
        bad(torch, torch.from_numpy(X))
    with pytest.raises(RuntimeError) as m_err:
        mx.vjp(_ours(bad), [mx.array(X)], [mx.ones((1, 1))])
    assert str(m_err.value) == str(t_err.value)


@pytest.mark.parametrize("read", [
    lambda L, t: L.tensor(t.sum().item()),
    lambda L, t: L.tensor(float(t.sum())),
    lambda L, t: t * 2 if bool(t.sum() > 0) else t,
    lambda L, t: L.tensor(t.tolist()),
    lambda L, t: t[t > 0],
    lambda L, t: t[t.argmax().reshape(1)],
], ids=["item", "float", "bool", "tolist", "bool-mask index", "tensor index"])
def test_data_dependent_read_under_compile_raises_runtime_error(read):
    """Reading values while mx.compile traces is a data-dependent operation: a RuntimeError as torch raises
    for those under tracing, not MLX's ValueError; eagerly the same code runs (and matches torch)."""
    x = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    with pytest.raises(RuntimeError, match="data-dependent"):
        mx.compile(_ours(read))(mx.array(x))
    np.testing.assert_allclose(np.array(_ours(read)(mx.array(x))), _torch(read, x))


@pytest.mark.parametrize("name, read", [
    ("item", lambda L, t: L.tensor(t.sum().item())),
    ("__float__", lambda L, t: L.tensor(float(t.sum()))),
    ("__int__", lambda L, t: L.tensor(int(t.sum()))),
    ("__bool__", lambda L, t: t * 2 if bool(t.sum() > 0) else t),
    ("tolist", lambda L, t: L.tensor(t.tolist())),
    ("numpy", lambda L, t: L.from_numpy(t.numpy())),
])
def test_traced_read_error_names_the_conversion(name, read):
    """item() and the scalar conversions read through one C path (Note [Scalar conversions on the item path]); a
    read refused while MLX traces names the call the user made."""
    with pytest.raises(RuntimeError, match=rf"value in {name}\(\) while MLX traces"):
        mx.compile(_ours(read))(mx.array(np.array([1.0, -2.0, 3.0], dtype=np.float32)))
