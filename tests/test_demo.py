"""`make demo` runs examples/demo.py: it must run, and its operators section (deterministic, no random tensors)
must print exactly what the same code prints under torch."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "examples", "demo.py")


def _run(code, tmp_path, name):
    script = tmp_path / name
    script.write_text(code)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [env.get("PYTHONPATH", ""), ROOT] if p)
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_demo_runs_and_its_operators_print_as_torch(tmp_path):
    src = open(DEMO).read()
    out = _run(src, tmp_path, "demo.py")
    assert "== operators" in out and "== printing like torch" in out
    section = src[src.index('print("\\n== operators'):src.index('print("\\n== printing like torch")')]
    ours = _run("import mlx_compat as torch\ntorch.manual_seed(0)\n" + section, tmp_path, "ours.py")
    theirs = _run("import torch\ntorch.manual_seed(0)\n" + section, tmp_path, "theirs.py")
    assert ours == theirs
