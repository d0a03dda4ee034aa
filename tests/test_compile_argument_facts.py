"""Facts a compiled graph assumes of its arguments' values (Note [Argument facts] in _compile.py): a call whose
argument answers otherwise takes another entry, from the call program too (P_ARGCHECK in csrc/compile.c); the
GPU cross entropy's targets seen to hold no ignore_index take the unmasked path in the traced graph, as in eager
code, and the losses are torch's step by step whichever entry runs."""
import numpy as np
import pytest

import mlx_compat as torch
from mlx_compat import _compile
from helpers import fake_gpu_json



@pytest.fixture(autouse=True)
def _fresh():
    torch._dynamo.reset()
    yield


def _positive(arr):
    return bool((np.asarray(arr) > 0).all())


def _branchy(derived=False):
    """A function whose eager code reads an argument's values to choose a path, asking argument_fact while traced:
    the pattern cross entropy's targets follow (Note [Argument facts])."""
    def f(x, y):
        t = y * 1 if derived else y
        fact = _compile.argument_fact(t._mx, "all positive", _positive)
        if fact is None and not _compile.is_compiling():
            fact = _positive(t._mx)
        return x * 2.0 if fact else x * 3.0
    return f


def _entries(cs):
    return [e for es in cs._compiled.cache.values() for e in es]


def test_a_fact_of_an_argument_selects_the_entry_in_the_program_and_on_the_python_path():
    f = _branchy()
    cs = torch.compile(f)
    x = torch.ones(3)
    pos, neg = torch.tensor([1, 2, 3]), torch.tensor([1, -2, 3])
    entry_calls = []
    real_entry = _compile._Compiled._entry

    def spy(self, *a, **k):
        entry_calls.append(1)
        return real_entry(self, *a, **k)

    _compile._Compiled._entry = spy
    try:
        seq = [pos] * 4 + [neg] * 4 + [pos] * 3 + [neg] * 2
        for i, y in enumerate(seq):
            assert cs(x, y).tolist() == f(x, y).tolist(), i
            if i == 3:
                assert [[(k, key, v) for k, key, _, v in e.arg_guards] for e in _entries(cs)] == [
                    [(1, "all positive", True)]]
                assert len(entry_calls) <= 2  # from then on the call program ran: no Python lookup
                before = len(entry_calls)
            if i == 4:  # the program's check failed before any side effect: the Python path traced anew
                assert len(entry_calls) == before + 1
                assert sorted(v for e in _entries(cs) for _, _, _, v in e.arg_guards) == [False, True]
    finally:
        _compile._Compiled._entry = real_entry
    assert len(_entries(cs)) == 2  # each answer traced once


def test_an_array_computed_from_an_argument_carries_no_fact():
    f = _branchy(derived=True)
    cs = torch.compile(f)
    x = torch.ones(3)
    for y in (torch.tensor([1, 2, 3]), torch.tensor([1, -2, 3])):
        assert cs(x, y).tolist() == [3.0] * 3  # the general path: no fact while traced
    assert all(e.arg_guards == () for e in _entries(cs))


def test_the_targets_question_answers_unknown_out_of_bounds():
    from mlx_compat.nn import _loss

    assert _loss._no_ignored_targets(-100, 3, torch.tensor([0, 2, 1])._mx) is True
    assert _loss._no_ignored_targets(-100, 3, torch.tensor([0, -100, 1])._mx) is False
    assert _loss._no_ignored_targets(-100, 3, torch.tensor([0, 7, 1])._mx) is None  # no IndexError from the check
    assert _loss._no_ignored_targets(2, 3, torch.tensor([0, 2, 1])._mx) is False  # an in-range ignore_index


_GPU_SCRIPT = r'''
import json
import numpy as np
import torch as ref_torch
import mlx_compat as torch
import mlx_compat.nn as nn
import mlx_compat.nn.functional as F
from mlx_compat.nn import _loss

masked = []
real = _loss._gpu_ce_functions
def spy(dt, reduction, m, *rest):
    masked.append(bool(m))
    return real(dt, reduction, m, *rest)
_loss._gpu_ce_functions = spy

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).to("cuda")
ref = ref_torch.nn.Sequential(ref_torch.nn.Linear(6, 16), ref_torch.nn.ReLU(), ref_torch.nn.Linear(16, 3))
with ref_torch.no_grad():
    for p, q in zip(ref.parameters(), model.parameters()):
        p.copy_(ref_torch.from_numpy(q.detach().cpu().numpy().copy()))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
ref_opt = ref_torch.optim.Adam(ref.parameters(), lr=1e-2)

def step(x, y):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss

cs = torch.compile(step)
rng = np.random.default_rng(3)
x = rng.standard_normal((8, 6)).astype(np.float32)
plain = rng.integers(0, 3, 8)
ignored = plain.copy()
ignored[[1, 5]] = -100
out = []
for y in [plain] * 3 + [ignored] * 3 + [plain] * 2:
    loss = cs(torch.from_numpy(x).to("cuda"), torch.from_numpy(y).to("cuda")).item()
    ref_opt.zero_grad()
    r = ref_torch.nn.functional.cross_entropy(ref(ref_torch.from_numpy(x)), ref_torch.from_numpy(y))
    r.backward()
    ref_opt.step()
    out.append([loss, r.item(), list(masked)])
print(json.dumps(out))
'''


def test_the_gpu_cross_entropy_is_traced_unmasked_while_no_target_is_ignored():
    """Under the fake GPU (the GPU path's cross entropy, Note [fused cross entropy on the GPU]): traced without
    the mask while the targets hold no ignore_index, with it once they do, torch's losses throughout."""
    out = fake_gpu_json(_GPU_SCRIPT)
    for i, (loss, expected, _) in enumerate(out):
        np.testing.assert_allclose(loss, expected, rtol=2e-5, atol=1e-6, err_msg=f"call {i}")
    first, after = out[2][2], out[5][2]
    assert first and not any(first), first  # every trace so far: no mask
    assert any(after[len(first):]), after  # the batch with ignored rows: a masked trace


@pytest.mark.parametrize("how", ["keyword", "dynamic"])
def test_facts_hold_on_the_python_path_and_under_dynamic_shapes(how):
    """Calls the call program does not take (a keyword argument) and shapeless graphs (dynamic=True) choose their
    entry by the facts too."""
    f = _branchy()
    cs = torch.compile(f, dynamic=True) if how == "dynamic" else torch.compile(f)
    for n in (3, 3, 4, 5, 4):
        x = torch.ones(n)
        for y in (torch.arange(1, n + 1), torch.arange(-1, n - 1), torch.arange(1, n + 1)):
            got = cs(x, y=y) if how == "keyword" else cs(x, y)
            assert got.tolist() == f(x, y).tolist(), (n, y.tolist())
    answers = sorted({v for e in _entries(cs) for _, _, _, v in e.arg_guards} |
                     {v for sl in getattr(cs._compiled, "shapeless", {}).values() for e in sl.entries
                      for _, _, _, v in e.arg_guards})
    assert answers == [False, True], answers
