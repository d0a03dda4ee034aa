"""Worker for test_dist_fault.py. Modes:
  die:      after a first all_reduce, rank DIE_RANK exits abruptly; the others keep calling all_reduce and must fail
            with a RuntimeError (printed as FAILED <message>) instead of hanging.
  absent:   rank 0 alone calls init_process_group with a short timeout (its peers never start).
  crash:    rank 1 raises (for the launcher test); the others sleep, to be stopped by the launcher."""
import datetime
import os
import sys
import time

import mlx_compat as torch
import mlx_compat.distributed as dist


def main(mode):
    timeout = datetime.timedelta(seconds=float(os.environ.get("TEST_TIMEOUT", "20")))
    if mode == "absent":
        t0 = time.monotonic()
        try:
            dist.init_process_group("gloo", timeout=timeout)
        except RuntimeError as e:
            print(f"FAILED after {time.monotonic() - t0:.1f}s: {e}", flush=True)
            return
        print("UNEXPECTED init succeeded", flush=True)
        return
    dist.init_process_group("gloo", timeout=timeout)
    rank = dist.get_rank()
    if mode == "crash":
        if rank == 1:
            raise SystemExit(7)
        time.sleep(120)
        return
    t = torch.ones(1000)
    dist.all_reduce(t)
    print(f"rank {rank} first all_reduce {t[0].item()}", flush=True)
    if rank == int(os.environ.get("DIE_RANK", "1")):
        os._exit(3)
    t0 = time.monotonic()
    try:
        for _ in range(50):
            dist.all_reduce(t)
            time.sleep(0.05)
    except RuntimeError as e:
        print(f"FAILED after {time.monotonic() - t0:.1f}s: {e}", flush=True)
        sys.exit(1)
    print("UNEXPECTED all_reduce kept working", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
