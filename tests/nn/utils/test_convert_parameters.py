"""parameters_to_vector / vector_to_parameters against torch."""
import numpy as np

from helpers import assert_raises_same, assert_same, mc, torch
from modtest import pair


def test_roundtrip_matches_torch():
    t, m = pair("nn.Conv2d", 2, 3, 3)
    vt = torch.nn.utils.parameters_to_vector(t.parameters())
    vm = mc.nn.utils.parameters_to_vector(m.parameters())
    assert_same(vm, vt)
    new = np.arange(vt.numel(), dtype=np.float32)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), t.parameters())
    mc.nn.utils.vector_to_parameters(mc.tensor(new), m.parameters())
    for (k, a), (k2, b) in zip(m.named_parameters(), t.named_parameters()):
        assert k == k2 and isinstance(a, mc.nn.Parameter)
        assert_same(a, b)


def test_parameters_to_vector_is_differentiable():
    p = [mc.nn.Parameter(mc.ones(2, 2)), mc.nn.Parameter(mc.ones(3))]
    v = mc.nn.utils.parameters_to_vector(p)
    (v * mc.arange(7.0)).sum().backward()
    assert p[0].grad.tolist() == [[0.0, 1.0], [2.0, 3.0]] and p[1].grad.tolist() == [4.0, 5.0, 6.0]


def test_vector_to_parameters_type_error():
    assert_raises_same(lambda: torch.nn.utils.vector_to_parameters([1.0], []),
                       lambda: mc.nn.utils.vector_to_parameters([1.0], []))
