"""Facts a compiled graph assumes of its arguments' values (Note [Argument facts] in _compile.py): cross entropy's
targets seen to hold no ignore_index take the unmasked path in the traced graph as in eager code; a call whose
targets do hold it takes another entry, also from the call program (P_ARGCHECK in csrc/compile.c); the losses
are torch's step by step whichever entry runs."""
import numpy as np
import pytest

import mlx_compat as torch
import mlx_compat.nn as nn
import mlx_compat.nn.functional as F
from mlx_compat import _compile
from helpers import fake_gpu_json

import torch as ref_torch

KEY = ("no ignored targets", -100, 3)


@pytest.fixture(autouse=True)
def _fresh():
    torch._dynamo.reset()
    yield


def _pair(computed_targets=False):
    """(compiled step, torch step): the same MLP and Adam on both sides."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    ref = ref_torch.nn.Sequential(ref_torch.nn.Linear(6, 16), ref_torch.nn.ReLU(), ref_torch.nn.Linear(16, 3))
    with ref_torch.no_grad():
        for p, q in zip(ref.parameters(), model.parameters()):
            p.copy_(ref_torch.from_numpy(q.detach().numpy().copy()))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    ref_opt = ref_torch.optim.Adam(ref.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y * 1 if computed_targets else y)
        loss.backward()
        opt.step()
        return loss

    def ref_step(x, y):
        ref_opt.zero_grad()
        loss = ref_torch.nn.functional.cross_entropy(ref(x), y)
        loss.backward()
        ref_opt.step()
        return loss

    return torch.compile(step), ref_step


def _batches():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 6)).astype(np.float32)
    plain = rng.integers(0, 3, 8)
    ignored = plain.copy()
    ignored[[1, 5]] = -100
    return x, plain, ignored


def _facts(cs):
    return [e.arg_guards for es in cs._compiled.cache.values() for e in es]


def test_targets_without_ignore_index_are_a_fact_of_the_graph_and_a_batch_with_it_another_entry():
    cs, ref_step = _pair()
    x, plain, ignored = _batches()
    entry_calls = []
    real_entry = _compile._Compiled._entry

    def spy(self, *a, **k):
        entry_calls.append(1)
        return real_entry(self, *a, **k)

    _compile._Compiled._entry = spy
    try:
        for i, y in enumerate([plain] * 4 + [ignored] * 4 + [plain] * 3):
            loss = cs(torch.from_numpy(x), torch.from_numpy(y))
            expected = ref_step(ref_torch.from_numpy(x), ref_torch.from_numpy(y))
            np.testing.assert_allclose(loss.item(), expected.item(), rtol=2e-5, atol=1e-6, err_msg=f"call {i}")
            if i == 3:
                # the traced graphs assume the fact (the first call's plan and the reused one each traced once)
                assert {g for gs in _facts(cs) for g in gs} and all(
                    [(k, key, v) for k, key, _, v in gs] == [(1, KEY, True)] for gs in _facts(cs)), _facts(cs)
                # from the third call on, the call program ran every call: no Python lookup
                assert len(entry_calls) <= 3, len(entry_calls)
                before = len(entry_calls)
            if i == 4:
                assert len(entry_calls) == before + 1  # the fact failed in the program: the Python path
                assert any([(k, key, v) for k, key, _, v in gs] == [(1, KEY, False)] for gs in _facts(cs))
    finally:
        _compile._Compiled._entry = real_entry
    n_entries = sum(len(es) for es in cs._compiled.cache.values())
    assert n_entries <= 4, _facts(cs)  # no entry traced again for targets seen before


def test_targets_made_inside_the_function_carry_no_fact():
    cs, ref_step = _pair(computed_targets=True)
    x, plain, _ = _batches()
    for _ in range(3):
        loss = cs(torch.from_numpy(x), torch.from_numpy(plain))
        expected = ref_step(ref_torch.from_numpy(x), ref_torch.from_numpy(plain))
        np.testing.assert_allclose(loss.item(), expected.item(), rtol=2e-5, atol=1e-6)
    assert all(gs == () for gs in _facts(cs)), _facts(cs)


def test_out_of_bounds_targets_answer_unknown_and_keep_the_general_path():
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
