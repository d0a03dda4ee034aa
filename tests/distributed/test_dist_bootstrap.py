"""Bootstrap paths: init_process_group from MLX's own environment (MLX_HOSTFILE/MLX_RANK written as mlx.launch
does, world size from the hostfile), and DDP's find_unused_parameters across ranks that use different
parameters (a parameter used on one rank gets the average; one no rank used keeps .grad None, as torch)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dist_procs  # noqa: E402


def test_mlx_launch_environment(tmp_path):
    port = dist_procs.free_port(2)
    hostfile = tmp_path / "hosts.json"
    hostfile.write_text(json.dumps([[f"127.0.0.1:{port}"], [f"127.0.0.1:{port + 1}"]]))
    import subprocess

    procs = []
    for r in range(2):
        env = dist_procs.base_env()
        env.update({"MLX_HOSTFILE": str(hostfile), "MLX_RANK": str(r)})
        procs.append(subprocess.Popen([sys.executable, os.path.join(dist_procs.HERE, "mlx_env_worker.py")],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      start_new_session=True))
    codes, outs = dist_procs.wait_all(procs, timeout=60)
    assert codes == [0, 0], outs
    # b is used only on rank 1: both ranks end with the average of rank 1's gradient and rank 0's zeros
    lines = [next(line for line in o.splitlines() if line.startswith("RESULT")) for o in outs]
    fields = [dict(kv.split("=", 1) for kv in line.split()[1:]) for line in lines]
    for r, f in enumerate(fields):
        assert f["rank"] == str(r) and f["world"] == "2" and float(f["sum"]) == 3.0, lines
        assert f["c_grad"] == "None", lines
    assert fields[0]["b_grad"] != "None" and fields[0]["b_grad"] == fields[1]["b_grad"], lines
    ref = float(fields[1]["ref_b_grad"])
    assert ref != 0.0 and abs(float(fields[0]["b_grad"]) - ref / 2) <= 1e-5 * abs(ref), lines
