"""Failures: a rank that dies makes the others raise a clear RuntimeError rather than hang; a rank that stays alive
but stops joining makes the others' watchdog end them after the timeout; a rank that never arrives makes
init_process_group time out; the launcher stops every worker when one fails and returns its code."""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dist_procs  # noqa: E402


@pytest.mark.parametrize("world,die", [(2, 1), (4, 2)])
def test_dead_rank_fails_the_others(world, die, tmp_path):
    port = dist_procs.free_port(world + 1)
    # TMPDIR: where the rendezvous writes MLX's hostfile; ranks that end without destroy_process_group must not
    # leave it behind (it is deleted once MLX's ring has read it)
    procs = dist_procs.spawn_ranks("fault_worker.py", ["die"], world, port,
                                   extra_env={r: {"DIE_RANK": str(die), "TMPDIR": str(tmp_path)} for r in range(world)})
    codes, outs = dist_procs.wait_all(procs, timeout=60)
    assert codes[die] == 3, outs[die]
    for r in range(world):
        if r == die:
            continue
        assert codes[r] == 1, outs[r]
        assert "FAILED" in outs[r] and "Connection closed by peer" in outs[r], outs[r]
    assert os.listdir(tmp_path) == []


def test_stuck_rank_times_out():
    port = dist_procs.free_port(3)
    procs = dist_procs.spawn_ranks("fault_worker.py", ["stuck"], 2, port,
                                   extra_env={r: {"DIE_RANK": "1", "TEST_TIMEOUT": "3"} for r in range(2)})
    try:
        t0 = time.monotonic()
        out, _ = procs[0].communicate(timeout=45)
        out = out.decode(errors="replace")
        assert procs[0].returncode == 1, out
        assert "all_reduce did not complete within the process group's timeout (3 s)" in out, out
        assert time.monotonic() - t0 < 40
    finally:
        dist_procs.kill(procs)


def test_missing_rank_times_out_at_init():
    import subprocess

    port = dist_procs.free_port(3)
    env = dist_procs.base_env()
    env.update({"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                "TEST_TIMEOUT": "3"})  # rank 1 of 2 never starts
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, os.path.join(dist_procs.HERE, "fault_worker.py"), "absent"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    codes, outs = dist_procs.wait_all([p], timeout=60)
    assert codes == [0], outs[0]
    assert "FAILED" in outs[0] and "Timed out" in outs[0] and "[1]" in outs[0], outs[0]
    assert time.monotonic() - t0 < 50


def test_launcher_stops_all_when_one_fails():
    t0 = time.monotonic()
    rc, log = dist_procs.launch(3, [os.path.join(dist_procs.HERE, "fault_worker.py"), "crash"], timeout=90)
    assert rc == 7, log
    assert "worker rank 1 (local_rank 1) failed with exit code 7" in log, log
    assert time.monotonic() - t0 < 80  # the others sleep 120 s unless stopped


def test_launcher_env_contract(tmp_path):
    script = tmp_path / "show_env.py"
    # one write per worker (a pipe keeps a write of under PIPE_BUF bytes whole): print writes each argument
    # separately when PYTHONUNBUFFERED is set, and the two workers' words then interleaved
    script.write_text("import os\nos.write(1, ' '.join(['ENV', *(os.environ[k] for k in ('RANK', 'LOCAL_RANK', "
                      "'WORLD_SIZE', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR')), "
                      "str(os.environ['MASTER_PORT'].isdigit())]).encode() + b'\\n')\n")
    # torchrun's underscore spelling, given after the helper's --nproc-per-node 1, decides the count
    rc, log = dist_procs.launch(1, [str(script), "--flag"], timeout=60,
                                launcher_args=("--nnodes=1", "--nproc_per_node=2", "--master_port=1"))
    assert rc == 0, log
    lines = sorted(line for line in log.splitlines() if line.startswith("ENV"))
    assert lines == ["ENV 0 0 2 2 127.0.0.1 True", "ENV 1 1 2 2 127.0.0.1 True"], log
