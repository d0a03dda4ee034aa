"""Worker for test_ddp.py: trains a small MLP under DistributedDataParallel on this rank's shard and saves the
final parameters (and, on rank 0, a single-process run on the concatenated batch) for the test to compare."""
import datetime
import sys

import numpy as np

import mlx_compat as torch
import mlx_compat.distributed as dist
from mlx_compat.nn.parallel import DistributedDataParallel as DDP


def make_model(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                               torch.nn.Linear(16, 3))


def data(step, n):
    rs = np.random.RandomState(1000 + step)
    return (torch.from_numpy(rs.randn(n, 6).astype(np.float32)), torch.from_numpy(rs.randn(n, 3).astype(np.float32)))


def main(out_path, steps, mode):
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=30))
    rank, world = dist.get_rank(), dist.get_world_size()
    per = 4
    # different initial weights per rank: DDP must broadcast rank 0's
    model = DDP(make_model(seed=rank), bucket_cap_mb=0.0005)  # tiny buckets: several all_reduces per step
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    accum = 2 if mode == "no_sync" else 1
    for step in range(steps):
        opt.zero_grad()
        for micro in range(accum):
            x, y = data(step * accum + micro, per * world)
            xs, ys = x[rank * per:(rank + 1) * per], y[rank * per:(rank + 1) * per]
            ctx = model.no_sync() if micro < accum - 1 else _null()
            with ctx:
                loss = torch.nn.functional.mse_loss(model(xs), ys) / accum
                loss.backward()
        opt.step()
    result = {("ddp." + k): v.detach().numpy() for k, v in model.state_dict().items()}
    if rank == 0:
        ref = make_model(seed=0)
        ropt = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)
        for step in range(steps):
            ropt.zero_grad()
            for micro in range(accum):
                x, y = data(step * accum + micro, per * world)
                (torch.nn.functional.mse_loss(ref(x), y) / accum).backward()
            ropt.step()
        result.update({("ref." + k): v.detach().numpy() for k, v in ref.state_dict().items()})
    np.savez(out_path.replace("RANK", str(rank)), **result)
    dist.destroy_process_group()


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "plain")
