"""DistributedDataParallel on 2 (and 4) local processes: 20 SGD steps on different shards end with the parameters of one
process stepping on the concatenated batch (<= 1e-5), identical on both ranks; the same with no_sync gradient
accumulation; and single-process behaviour (state_dict prefix, module attribute) against torch's DDP."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dist_procs  # noqa: E402


@pytest.mark.parametrize("world,mode,steps", [(2, "plain", 20), (2, "no_sync", 6), (4, "plain", 5)])
def test_ddp_matches_single_process(tmp_path, world, mode, steps):
    out = str(tmp_path / "res_RANK.npz")
    rc, log = dist_procs.launch(world, [os.path.join(dist_procs.HERE, "ddp_worker.py"), out, str(steps), mode],
                                timeout=120)
    assert rc == 0, log
    r0, r1 = np.load(out.replace("RANK", "0")), np.load(out.replace("RANK", str(world - 1)))
    keys = [k for k in r0.files if k.startswith("ddp.")]
    assert sorted(keys) == sorted(f"ddp.module.{k[len('ref.'):]}" for k in r0.files if k.startswith("ref."))
    moved = 0.0
    for k in keys:
        np.testing.assert_array_equal(r0[k], r1[k])  # identical on the first and last rank
        ref = r0["ref." + k[len("ddp.module."):]]
        np.testing.assert_allclose(r0[k], ref, rtol=1e-5, atol=1e-5)
        moved = max(moved, float(np.abs(r0[k]).max()))
    assert moved > 0


def _single_group(monkeypatch):
    import mlx_compat.distributed as dist

    port = dist_procs.free_port(2)
    for k, v in {"RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}.items():
        monkeypatch.setenv(k, v)
    dist.init_process_group("gloo")
    return dist


def test_ddp_wrapper_api_against_torch(monkeypatch):
    import torch
    import torch.distributed as tdist

    import mlx_compat as mc

    dist = _single_group(monkeypatch)
    try:
        torch.manual_seed(0)
        tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
        mm = mc.nn.Sequential(mc.nn.Linear(3, 4), mc.nn.BatchNorm1d(4), mc.nn.Linear(4, 2))
        mm.load_state_dict({k: mc.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})
        ddp = mc.nn.parallel.DistributedDataParallel(mm)
        assert ddp.module is mm
        tport = dist_procs.free_port(1)
        tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{tport}", rank=0, world_size=1)
        try:
            tddp = torch.nn.parallel.DistributedDataParallel(tm)
            assert list(ddp.state_dict()) == list(tddp.state_dict())
            x = np.random.RandomState(0).randn(5, 3).astype(np.float32)
            tddp(torch.from_numpy(x)).pow(2).sum().backward()
            ddp(mc.from_numpy(x)).pow(2).sum().backward()
            for (n, tp), mp in zip(tddp.named_parameters(), ddp.parameters()):
                # the first layer's gradient passes through batch norm's backward over 5 rows, where small
                # entries are differences of O(1) terms: torch's own float32 result moves by ~1e-6 with its
                # thread count, so the bound scales with the tensor's largest entry (its bias gradient is zero
                # up to rounding: 1e-6 absolute)
                g = tp.grad.numpy()
                np.testing.assert_allclose(mp.grad.numpy(), g, rtol=1e-5, atol=max(1e-6, 1e-5 * np.abs(g).max()),
                                           err_msg=n)
        finally:
            tdist.destroy_process_group()
        with pytest.raises(RuntimeError):
            mc.nn.parallel.DistributedDataParallel(mc.nn.Linear(2, 2).requires_grad_(False))
    finally:
        dist.destroy_process_group()


def test_ddp_unused_parameter_error_and_find_unused(monkeypatch):
    import mlx_compat as mc

    dist = _single_group(monkeypatch)
    try:
        class TwoHeads(mc.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = mc.nn.Linear(2, 2)
                self.b = mc.nn.Linear(2, 2)

            def forward(self, x, use_b):
                return self.b(self.a(x)) if use_b else self.a(x)

        x = mc.ones(3, 2)
        ddp = mc.nn.parallel.DistributedDataParallel(TwoHeads())
        ddp(x, False).sum().backward()
        with pytest.raises(RuntimeError, match="find_unused_parameters"):
            ddp(x, False)
        ddp = mc.nn.parallel.DistributedDataParallel(TwoHeads(), find_unused_parameters=True)
        for _ in range(2):
            ddp(x, False).sum().backward()
        assert ddp.module.a.weight.grad is not None
        np.testing.assert_allclose(ddp.module.a.weight.grad.numpy(), 2 * np.full((2, 2), 3.0), rtol=1e-6)
        assert ddp.module.b.weight.grad is None and ddp.module.b.bias.grad is None  # as torch: no rank used b
    finally:
        dist.destroy_process_group()
