"""`python -m mlx_compat.distributed.run`: torchrun's command line for local workers.

Starts --nproc-per-node processes of `script.py args` (or `-m module`, or `--no-python cmd`) with torch's
environment contract (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT, ...);
init_process_group turns that into MLX's own bootstrap. When one worker fails the others are stopped and the
launcher exits with the failed worker's code (torchrun without restarts)."""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

__all__ = ["main", "get_args_parser", "free_port"]


def free_port(host="127.0.0.1", span=1):
    """A TCP port free on `host` whose `span - 1` successors were free too, when checked."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port + span >= 65535:
            continue
        ok = True
        for p in range(port + 1, port + span):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind((host, p))
                except OSError:
                    ok = False
                    break
        if ok:
            return port
    raise RuntimeError("no free port range found")


def _nproc(value):
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    if value == "gpu":
        return 1
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("--nproc-per-node must be >= 1")
    return n


def _nnodes(value):
    lo, _, hi = str(value).partition(":")
    if hi and int(lo) != int(hi):
        raise argparse.ArgumentTypeError("elastic --nnodes ranges are not supported; give one number")
    return int(lo)


def get_args_parser():
    p = argparse.ArgumentParser(prog="python -m mlx_compat.distributed.run",
                                description="torchrun-compatible launcher for mlx_compat.distributed")
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=_nproc, default=1, dest="nproc_per_node")
    p.add_argument("--nnodes", type=_nnodes, default=1)
    p.add_argument("--node-rank", "--node_rank", type=int, default=0, dest="node_rank")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1", dest="master_addr")
    p.add_argument("--master-port", "--master_port", type=int, default=29500, dest="master_port")
    p.add_argument("--standalone", action="store_true",
                   help="single node: pick a free master port on 127.0.0.1")
    p.add_argument("--rdzv-backend", "--rdzv_backend", default="static", dest="rdzv_backend")
    p.add_argument("--rdzv-endpoint", "--rdzv_endpoint", default="", dest="rdzv_endpoint")
    p.add_argument("--rdzv-id", "--rdzv_id", default="none", dest="rdzv_id")
    p.add_argument("--max-restarts", "--max_restarts", type=int, default=0, dest="max_restarts")
    p.add_argument("--monitor-interval", "--monitor_interval", type=float, default=0.1, dest="monitor_interval")
    p.add_argument("-m", "--module", action="store_true", help="run the target as a module (python -m)")
    p.add_argument("--no-python", "--no_python", action="store_true", dest="no_python")
    p.add_argument("training_script")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def _worker_env(args, local_rank, run_id):
    env = dict(os.environ)
    world = args.nnodes * args.nproc_per_node
    rank = args.node_rank * args.nproc_per_node + local_rank
    env.update({
        "RANK": str(rank), "LOCAL_RANK": str(local_rank), "WORLD_SIZE": str(world),
        "LOCAL_WORLD_SIZE": str(args.nproc_per_node), "GROUP_RANK": str(args.node_rank),
        "ROLE_RANK": str(rank), "ROLE_WORLD_SIZE": str(world), "ROLE_NAME": "default",
        "MASTER_ADDR": args.master_addr, "MASTER_PORT": str(args.master_port),
        "TORCHELASTIC_RUN_ID": run_id, "TORCHELASTIC_RESTART_COUNT": "0", "TORCHELASTIC_MAX_RESTARTS": "0",
        "OMP_NUM_THREADS": env.get("OMP_NUM_THREADS", "1"),
    })
    env.pop("MLX_HOSTFILE", None)
    env.pop("MLX_RANK", None)
    return env


def _command(args):
    if args.no_python:
        return [args.training_script, *args.training_script_args]
    if args.module:
        return [sys.executable, "-u", "-m", args.training_script, *args.training_script_args]
    return [sys.executable, "-u", args.training_script, *args.training_script_args]


def _stop(procs, grace=5.0):
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def run(args):
    """Start the workers and wait: 0 when all succeed, else the first failure's exit code."""
    if args.max_restarts:
        raise ValueError("--max-restarts > 0 (elastic restarts) is not supported")
    if args.rdzv_endpoint:
        host, _, port = args.rdzv_endpoint.rpartition(":")
        args.master_addr, args.master_port = (host or args.master_addr), int(port or args.master_port)
    if args.standalone:
        if args.nnodes != 1:
            raise ValueError("--standalone needs --nnodes=1")
        args.master_addr = "127.0.0.1"
        args.master_port = free_port(span=args.nproc_per_node + 1)
    run_id = args.rdzv_id if args.rdzv_id != "none" else uuid.uuid4().hex
    cmd = _command(args)
    procs = []
    stop_signal = []

    def on_signal(signum, frame):
        stop_signal.append(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        for lr in range(args.nproc_per_node):
            procs.append(subprocess.Popen(cmd, env=_worker_env(args, lr, run_id), start_new_session=True))
        while True:
            if stop_signal:
                _stop(procs)
                return 128 + stop_signal[0]
            codes = [p.poll() for p in procs]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                lr, code = failed[0]
                rank = args.node_rank * args.nproc_per_node + lr
                _stop(procs)
                desc = f"signal {-code}" if code < 0 else f"exit code {code}"
                print(f"[mlx_compat.distributed.run] worker rank {rank} (local_rank {lr}) failed with {desc}; "
                      f"stopped the other workers", file=sys.stderr, flush=True)
                return code if code > 0 else 128 - code
            if all(c == 0 for c in codes):
                return 0
            time.sleep(args.monitor_interval)
    finally:
        if any(p.poll() is None for p in procs):
            _stop(procs)
        for s, h in old.items():
            signal.signal(s, h)


def main(argv=None):
    args = get_args_parser().parse_args(argv)
    sys.exit(run(args))


if __name__ == "__main__":
    main()
