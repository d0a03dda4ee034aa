"""Note [Device scope]: where a GPU exists, Python-level ops are wrapped to run on their tensors' device. The
wrappers are forced on here (MLX_COMPAT_DEVICE_SCOPE=1, in a subprocess) to check that they are transparent:
identities between namespaces, warnings pointing at the caller, results and errors unchanged. The whole suite also
passes with the variable set; bench/gpu_check.py checks the GPU itself."""
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import warnings
    import mlx_compat as mc
    from mlx_compat import _device_scope
    from mlx_compat._ops import special as _special_fns
    from mlx_compat.nn import _loss

    assert _device_scope.ACTIVE
    assert getattr(mc.lgamma, "_device_scoped", False), "public functions are wrapped"
    assert mc.lgamma is _special_fns.lgamma is mc.special.gammaln or mc.special.gammaln._device_scoped
    assert mc.Tensor.lgamma is mc.lgamma, "a method and its function share one wrapper"
    assert mc.kl_div is _loss.TORCH_VARIANTS["kl_div"], "TORCH_VARIANTS tables are wrapped too"
    assert mc.zeros(2, dtype=mc.float64).tolist() == [0.0, 0.0]
    x = mc.tensor([0.5, 2.0], dtype=mc.float64, requires_grad=True)
    g, = mc.autograd.grad(mc.lgamma(x).sum(), x)
    assert abs(g[0].item() - (-1.9635100260214235)) < 1e-12
    import inspect
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        mc.nn.functional.mse_loss(mc.ones(2), mc.zeros(2), size_average=False)
    assert rec and rec[0].lineno == line and rec[0].filename == __file__, [(r.filename, r.lineno) for r in rec]
    try:
        mc.tensor([1.0], device="nonsense")
    except RuntimeError:
        pass
    else:
        raise AssertionError("a bad device still raises torch's RuntimeError")
    print("ok")
""")


def test_device_scope_wrappers_are_transparent(tmp_path):
    script = tmp_path / "scope.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, MLX_COMPAT_DEVICE_SCOPE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [env.get("PYTHONPATH", ""),
                                                    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))] if p)
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


def test_gpu_check_under_fake_gpu():
    """bench/gpu_check.py (every family, outputs and gradients, 'cuda' against 'cpu') under Note [Fake GPU]:
    device placement and mixing are checked here; the real GPU's numbers are checked on one (BENCHMARKS.md)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, MLX_COMPAT_FAKE_GPU="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [env.get("PYTHONPATH", ""), root] if p)
    proc = subprocess.run([sys.executable, os.path.join(root, "bench", "gpu_check.py")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
