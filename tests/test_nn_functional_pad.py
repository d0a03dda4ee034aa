"""nn.functional.pad in every mode: values, gradients and error types against torch."""
import numpy as np
import pytest

from helpers import assert_same, mc, torch

CASES = [
    ("constant", (1, 2), (2, 3, 4), 1.5),
    ("constant", (1, -1, 2, 0), (1, 2, 4, 5), None),
    ("constant", (0, 0, 1, 1, 2, 2), (2, 3, 4), 0.0),
    ("reflect", (2, 1), (2, 3, 5), None),
    ("reflect", (1, 2, 3, 1), (1, 2, 4, 5), None),
    ("replicate", (2, 3, 1, 0), (1, 2, 4, 5), None),
    ("replicate", (1, 1, 2, 0, 0, 1), (1, 1, 3, 3, 3), None),
    ("circular", (1, 2, 2, 1), (1, 2, 4, 5), None),
    ("circular", (3, 0), (2, 4), None),
]


@pytest.mark.parametrize("mode,pad,shape,value", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_pad(mode, pad, shape, value):
    a = np.random.default_rng(len(pad)).standard_normal(shape).astype(np.float32)
    out = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        kw = {"value": value} if value is not None else {}
        y = L.nn.functional.pad(x, pad, mode=mode, **kw)
        (y * y).sum().backward()
        out.append((y, x.grad))
    assert_same(out[1][0], out[0][0])
    assert_same(out[1][1], out[0][1], rtol=1e-4)


@pytest.mark.parametrize("mode,pad,shape", [("reflect", (4, 0), (1, 2, 4)), ("reflect", (1, 1), (1, 2, 3, 4)),
                                            ("constant", (1,), (2, 3)), ("circular", (5, 0), (1, 2, 4))])
def test_pad_errors(mode, pad, shape):
    errs = []
    for L in (torch, mc):
        try:
            L.nn.functional.pad(L.zeros(*shape), pad, mode=mode)
            errs.append(None)
        except Exception as e:  # noqa: BLE001
            errs.append(type(e))
    assert errs[0] is not None and errs[1] is not None and issubclass(errs[1], errs[0]), errs


@pytest.mark.parametrize("mode", ["replicate", "circular", "reflect"])
@pytest.mark.parametrize("pad", [(-1, 2), (2, -1), (-2, -1), (-4, 5), (5, -4), (-1, 1, -2, 1)])
def test_pad_negative_amounts_crop(mode, pad):
    a = np.random.default_rng(7).standard_normal((1, 2, 5, 5)).astype(np.float32)
    got = []
    for L in (torch, mc):
        x = L.from_numpy(a.copy()).requires_grad_()
        try:
            y = L.nn.functional.pad(x, pad, mode=mode)
        except Exception as e:  # noqa: BLE001
            got.append(type(e))
            continue
        got.append((y, L.autograd.grad((y * y).sum(), x)[0]))
    if isinstance(got[0], type):
        assert got[1] is got[0] or issubclass(got[1], got[0]), got
        return
    assert_same(got[1][0], got[0][0])
    assert_same(got[1][1], got[0][1], rtol=1e-5)


@pytest.mark.parametrize("mode", ["replicate", "circular", "reflect", "constant"])
def test_pad_zero_size_input_backward(mode):
    out = []
    for L in (torch, mc):
        x = L.zeros(0, 3, 3, requires_grad=True)
        y = L.nn.functional.pad(x, (1, 2), mode=mode)
        out.append((y, L.autograd.grad(y.sum(), x)[0]))
    assert_same(out[1][0], out[0][0])
    assert_same(out[1][1], out[0][1])


def test_constant_pad_nd():
    a = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(np.float32)
    for pad, value in (((1, -1, 2, 0), 0.5), ((0, 0, 0, 0, 1, 1), 0)):
        t = torch.constant_pad_nd(torch.from_numpy(a), pad, value)
        m = mc.constant_pad_nd(mc.from_numpy(a.copy()), pad, value)
        assert_same(m, t)


@pytest.mark.parametrize("shape,pad", [((1, 2, 5), (1, 1)), ((2, 5), (1, 2)), ((1, 2, 5, 5), (1, 1, 2, 0)),
                                       ((1, 2, 4, 5, 5), (1,) * 6)])
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
def test_pad_node_names(shape, pad, mode):
    """torch's node names, as printed in a result's grad_fn: ReflectionPad2DBackward0, ReplicationPad1DBackward0,
    CopySlices (torch's circular pad copies into slices), ConstantPadNdBackward0."""
    names = []
    for L in (torch, mc):
        y = L.nn.functional.pad(L.ones(*shape, requires_grad=True), pad, mode=mode)
        names.append((type(y.grad_fn).__name__, y.grad_fn.name()))
    assert names[1] == names[0]
