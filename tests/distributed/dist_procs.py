"""Helpers for the multi-process tests: free ports, launching local workers with torch's environment, and
cleaning every started process up (each test kills what it started, by pid)."""
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port(span):
    """A port p with p..p+span-1 free on 127.0.0.1 (the rendezvous port and one ring port per rank)."""
    from mlx_compat.distributed.run import free_port as fp

    return fp("127.0.0.1", span)


def base_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env["OPENBLAS_NUM_THREADS"] = "1"
    for k in ("MLX_HOSTFILE", "MLX_RANK", "RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"):
        env.pop(k, None)
    return env


def kill(procs):
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def spawn_ranks(script, args, world, port, extra_env=None):
    """Start `world` workers of `script` with RANK/WORLD_SIZE/MASTER_* set; returns the Popen list."""
    procs = []
    for r in range(world):
        env = base_env()
        env.update({"RANK": str(r), "LOCAL_RANK": str(r), "WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1",
                    "MASTER_PORT": str(port)})
        env.update((extra_env or {}).get(r, {}))
        procs.append(subprocess.Popen([sys.executable, os.path.join(HERE, script), *args], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True))
    return procs


def wait_all(procs, timeout):
    """(returncodes, outputs) once every process exits; kills all and raises on timeout."""
    deadline = time.monotonic() + timeout
    outs = []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=max(deadline - time.monotonic(), 0.1))
            outs.append(out.decode(errors="replace"))
    except subprocess.TimeoutExpired:
        kill(procs)
        raise AssertionError(f"workers still running after {timeout} s (hang)") from None
    finally:
        kill(procs)
    return [p.returncode for p in procs], outs


def launch(nproc, script_args, timeout, launcher_args=()):
    """Run `python -m mlx_compat.distributed.run --standalone --nproc-per-node nproc ...`; (rc, output)."""
    cmd = [sys.executable, "-m", "mlx_compat.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
           *launcher_args, *script_args]
    p = subprocess.Popen(cmd, env=base_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True, cwd=ROOT)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill([p])
        raise AssertionError(f"launcher still running after {timeout} s (hang)") from None
    finally:
        kill([p])
    return p.returncode, out.decode(errors="replace")
