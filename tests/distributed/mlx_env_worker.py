"""Worker for test_dist_bootstrap.py: init_process_group from MLX's own contract (MLX_HOSTFILE + MLX_RANK, as
mlx.launch sets them, no torch variables), then one all_reduce and a DDP step with find_unused_parameters where
only rank 1 uses the second head."""
import sys

import mlx_compat as torch
import mlx_compat.distributed as dist


class TwoHeads(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(2, 2)
        self.b = torch.nn.Linear(2, 2)
        self.c = torch.nn.Linear(2, 2)  # used by no rank

    def forward(self, x, use_b):
        return self.b(self.a(x)) if use_b else self.a(x)


def main():
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    t = torch.tensor([float(rank + 1)])
    dist.all_reduce(t)
    torch.manual_seed(0)
    ddp = torch.nn.parallel.DistributedDataParallel(TwoHeads(), find_unused_parameters=True)
    ddp(torch.ones(3, 2), rank == 1).sum().backward()
    g = ddp.module.b.weight.grad
    torch.manual_seed(0)
    ref = TwoHeads()  # the same initial weights, without DDP: b's gradient when used
    ref(torch.ones(3, 2), True).sum().backward()
    print(f"RESULT rank={rank} world={world} sum={t.item()} b_grad={None if g is None else g.sum().item()} "
          f"c_grad={ddp.module.c.weight.grad} ref_b_grad={ref.b.weight.grad.sum().item()}", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
