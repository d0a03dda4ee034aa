"""Zero/Constant/Reflection/Replication/Circular Pad 1d/2d/3d against torch: int and per-side paddings (negative
ones crop, for constant and circular), batched and unbatched inputs; outputs, input gradients, repr and stored
`padding` in train and eval; errors (rank checks, reflection wider than the input)."""
import numpy as np
import pytest

from helpers import assert_raises_same, mc, torch
from modtest import check_module, inputs, lib_path, pair

SHAPES = {1: [(2, 3, 7), (3, 7)], 2: [(2, 3, 6, 7), (3, 6, 7)], 3: [(1, 2, 5, 6, 4), (2, 5, 6, 4)]}
PADS = {1: [2, (1, 3), (0, 2)], 2: [1, (1, 2, 0, 3), (3, 0, 2, 1)], 3: [1, (1, 2, 0, 1, 2, 0), (0, 0, 3, 1, 1, 2)]}
NEG = {1: (-1, 2), 2: (2, -1, -2, 1), 3: (1, -1, 0, 2, -1, 1)}

CASES = []
for nd in (1, 2, 3):
    for kind in ("ZeroPad", "ReflectionPad", "ReplicationPad", "CircularPad"):
        for i, pad in enumerate(PADS[nd]):
            CASES.append((f"nn.{kind}{nd}d", (pad,), SHAPES[nd][i % 2]))
    for i, pad in enumerate(PADS[nd]):
        CASES.append((f"nn.ConstantPad{nd}d", (pad, 3.5), SHAPES[nd][i % 2]))
    CASES.append((f"nn.ConstantPad{nd}d", (NEG[nd], -1), SHAPES[nd][0]))
    CASES.append((f"nn.ZeroPad{nd}d", (NEG[nd],), SHAPES[nd][1]))
    CASES.append((f"nn.CircularPad{nd}d", (NEG[nd],), SHAPES[nd][0]))


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("path,args,shape", CASES, ids=[f"{c[0][3:]}{c[1]}{c[2]}" for c in CASES])
def test_matches_torch(path, args, shape, train):
    theirs, ours = pair(path, *args)
    assert ours.padding == theirs.padding
    check_module(theirs, ours, *inputs(shape), train=train)


def test_list_padding_becomes_tuple():
    for path, pad in [("nn.ReflectionPad2d", [1, 2, 3, 0]), ("nn.ConstantPad1d", [2, 1])]:
        args = (pad, 0.5) if "Constant" in path else (pad,)
        t, m = lib_path(torch, path)(*args), lib_path(mc, path)(*args)
        assert m.padding == t.padding and type(m.padding) is tuple
        assert repr(m) == repr(t)


def test_constant_pad_value_kinds():
    """An int fill on an integer tensor stays integral; repr shows the value as given."""
    t, m = torch.nn.ConstantPad2d(1, 7), mc.nn.ConstantPad2d(1, 7)
    assert repr(m) == repr(t)
    x = np.arange(12, dtype=np.int64).reshape(1, 3, 4)
    check_module(t, m, *inputs(x))


@pytest.mark.parametrize("path,args,shape", [
    ("nn.CircularPad1d", (1,), (7,)),
    ("nn.CircularPad2d", (1,), (2, 1, 3, 4, 5)),
    ("nn.CircularPad3d", (1,), (2, 3, 4)),
    ("nn.ReflectionPad1d", (4,), (2, 3, 4)),
    ("nn.ReflectionPad2d", ((1, 1, 5, 0),), (1, 2, 3, 6)),
    ("nn.CircularPad1d", (5,), (2, 3, 4)),
    ("nn.ReflectionPad1d", (3,), (2, 3)),
    ("nn.ReplicationPad2d", (1,), (2, 3)),
    ("nn.ConstantPad2d", ((1, 2, 3), 0.0), (2, 3, 4)),
])
def test_forward_errors(path, args, shape):
    theirs, ours = pair(path, *args)
    t_in, m_in = inputs(shape)
    assert_raises_same(lambda: theirs(*t_in), lambda: ours(*m_in))
