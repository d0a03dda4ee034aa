"""The indices of max/min(dim) (csrc/reduce.c) hold MLX's uint32 argmax until first read and are cast to int64 then
(Note [Deferred cast] in csrc/tensor.c). Every way of reading or writing them must see torch's int64 tensor: each
case runs the same use of the indices in torch and in mlx_compat and compares values, dtype and shape."""
import numpy as np
import pytest

from helpers import assert_same, mc, torch

X = np.array([[0.5, -1.0, 3.0, 2.0], [4.0, 1.0, -2.0, 0.0], [1.0, 1.5, 1.25, -3.0]], np.float32)


def _idx(T, largest=True, keepdim=False):
    x = T.tensor(X)
    return (x.max(1, keepdim) if largest else T.min(x, 1, keepdim=keepdim)).indices


USES = {
    "plain": lambda T, i: i,
    "add": lambda T, i: i + 1,
    "mul_float": lambda T, i: i * 0.5,
    "to_float": lambda T, i: i.float(),
    "add_inplace": lambda T, i: i.add_(2),
    "setitem": lambda T, i: (i.__setitem__(0, 7), i)[1],
    "view": lambda T, i: i.view(-1, 1),
    "view_then_write": lambda T, i: (i.view(-1).__setitem__(1, 9), i)[1],
    "select": lambda T, i: i[1],
    "clone": lambda T, i: i.clone(),
    "detach": lambda T, i: i.detach(),
    "index_other": lambda T, i: T.tensor(X)[0][i],
    "gather": lambda T, i: T.tensor(X).gather(1, i.view(-1, 1)),
    "index_select": lambda T, i: T.tensor(X).index_select(1, i),
    "eq": lambda T, i: i == T.tensor([2, 0, 1]),
    "cat": lambda T, i: T.cat([i, i]),
    "sum": lambda T, i: i.sum(),
    "copy_into": lambda T, i: T.zeros(3, dtype=T.int64).copy_(i),
    "set_data": lambda T, i: (setattr(i, "data", T.tensor([5, 6, 7])), i)[1],
}


@pytest.mark.parametrize("largest", [True, False], ids=["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True], ids=["dim", "keepdim"])
@pytest.mark.parametrize("use", list(USES), ids=list(USES))
def test_indices_read_as_int64(use, largest, keepdim):
    f = USES[use]
    if use in ("gather", "index_select", "index_other", "eq", "copy_into", "set_data", "setitem",
               "view_then_write") and keepdim:
        pytest.skip("the use needs 1-D indices (keepdim gives them a second dim)")
    got, want = f(mc, _idx(mc, largest, keepdim)), f(torch, _idx(torch, largest, keepdim))
    assert_same(got, want)


def test_reads_of_the_value():
    i, r = _idx(mc), _idx(torch)
    assert i.dtype == mc.int64 and i.shape == r.shape and i.stride() == r.stride()
    assert i.tolist() == r.tolist()
    np.testing.assert_array_equal(i.numpy(), r.numpy())
    assert i.numpy().dtype == np.int64
    assert str(i._mx.dtype) == "mlx.core.int64"  # the MLX value handed out is the cast one


def test_save_load_roundtrip(tmp_path):
    i = _idx(mc)
    mc.save({"i": i}, tmp_path / "i.pt")
    back = torch.load(tmp_path / "i.pt")["i"]  # our checkpoint, read by torch itself
    assert back.dtype == torch.int64 and back.tolist() == _idx(torch).tolist()


def test_values_grad_and_unread_indices():
    w = mc.tensor(X, requires_grad=True)
    v, _ = w.max(1)
    v.sum().backward()
    t = torch.tensor(X, requires_grad=True)
    tv, _ = t.max(1)
    tv.sum().backward()
    assert_same(w.grad, t.grad)
