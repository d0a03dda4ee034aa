"""The torch import alias (mlx_compat._alias, mlx_compat.run): module identity, errors naming what is missing,
refusal next to a real torch, uninstall, the `python -m mlx_compat.run` entry point and the documented shims.

Each case runs in a fresh interpreter: the test process itself has the real torch (the oracle) imported, and the
alias refuses to share a process with it."""
import subprocess
import sys
import textwrap

import pytest


def run_py(code, *args, module_run=False, cwd=None):
    code = textwrap.dedent(code)
    if module_run:
        cmd = [sys.executable, "-m", "mlx_compat.run", *args]
    else:
        cmd = [sys.executable, "-c", code, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=cwd)
    return proc


def ok(code):
    proc = run_py(code)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def test_same_module_objects():
    out = ok("""
        import mlx_compat
        mlx_compat.install()
        import torch, torch.nn as nn, torch.nn.functional as F, torch.optim, torch.optim.lr_scheduler
        import torch.utils.data, torch.autograd, torch.linalg, torch.fft, torch.special
        import torchvision, torchvision.transforms
        import mlx_compat.vision
        assert torch.nn is mlx_compat.nn and nn.Module is mlx_compat.nn.Module
        assert F is mlx_compat.nn.functional and torch.optim is mlx_compat.optim
        assert torch.optim.lr_scheduler is mlx_compat.optim.lr_scheduler
        assert torch.utils.data.DataLoader is mlx_compat.utils.data.DataLoader
        assert torch.Tensor is mlx_compat.Tensor and torch.float32 is mlx_compat.float32
        assert torch.linalg is mlx_compat.linalg and torch.fft is mlx_compat.fft
        assert torchvision is mlx_compat.vision and torchvision.transforms is mlx_compat.vision.transforms
        x = torch.ones(2, 3, requires_grad=True)
        (x * 2).sum().backward()
        assert isinstance(x, mlx_compat.Tensor) and x.grad.tolist() == [[2.0] * 3] * 2
        print(torch.__version__)
        """)
    assert out.strip() == "2.13.0+mlxcompat"


def test_version_compares_like_torch():
    ok("""
        import mlx_compat; mlx_compat.install()
        import torch
        from packaging.version import parse
        assert parse(torch.__version__) >= parse("2.6") and torch.__version__ >= "2.0" and torch.__version__ < (3, 0)
        assert torch.version.__version__ == torch.__version__ and torch.version.cuda is None
        import importlib.metadata
        assert importlib.metadata.version("torch")  # a real distribution, or the alias's when none is installed
        """)


def test_missing_pieces_name_themselves():
    out = ok("""
        import mlx_compat; mlx_compat.install()
        import torch
        try:
            import torch.no_such_module
        except ModuleNotFoundError as e:
            print("M", e.name, "|", e)
        try:
            torch.no_such_function
        except AttributeError as e:
            print("A", e)
        try:
            torch.distributions.NoSuchDistribution
        except AttributeError as e:
            print("D", e)
        try:
            torch.hub.load_state_dict_from_url("https://example.invalid/w.pth")
        except RuntimeError as e:
            print("H", e)
        import sys
        assert not any(getattr(m, "__file__", None) and "site-packages/torch/" in m.__file__
                       for m in list(sys.modules.values())), "a real torch module was imported"
        """)
    assert "M torch.no_such_module |" in out and "mlx_compat.no_such_module" in out
    assert "torch.no_such_function" in out
    assert "NoSuchDistribution" in out
    assert "downloads nothing" in out


def test_refuses_next_to_real_torch():
    proc = run_py("""
        import torch
        import mlx_compat
        mlx_compat.install()
        """)
    assert proc.returncode != 0
    assert "RuntimeError" in proc.stderr and "real torch" in proc.stderr


def test_uninstall_restores():
    ok("""
        import sys, mlx_compat
        mlx_compat.install(); mlx_compat.install()  # idempotent
        import torch, torchvision, torch.jit
        assert sys.meta_path[0].__class__.__name__ == "TorchAliasFinder"
        mlx_compat.uninstall()
        assert not any(n == "torch" or n.startswith(("torch.", "torchvision")) for n in sys.modules)
        assert not any(type(f).__name__ == "TorchAliasFinder" for f in sys.meta_path)
        assert not hasattr(mlx_compat.vision.ops.misc, "FrozenBatchNorm2d") or \
            mlx_compat.vision.ops.misc.FrozenBatchNorm2d.__module__ != "torchvision.ops.misc"
        import torch  # now the real one
        assert "site-packages/torch" in torch.__file__
        """)


def test_run_entry_point(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent("""
        import sys
        import torch
        import torch.nn as nn
        print(__name__, sys.argv, type(nn.Linear(2, 3)).__module__, sys.path[0] == %r)
        """ % str(tmp_path)))
    proc = run_py("", str(script), "--flag", "7", module_run=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[:1] == ["__main__"]
    assert "'--flag', '7']" in proc.stdout and "mlx_compat.nn" in proc.stdout and proc.stdout.strip().endswith("True")
    bad = run_py("", str(tmp_path / "missing.py"), module_run=True)
    assert bad.returncode == 2 and "can't open file" in bad.stderr
    exits = tmp_path / "exits.py"
    exits.write_text("import sys\nsys.exit(3)\n")
    assert run_py("", str(exits), module_run=True).returncode == 3


def test_shims():
    ok("""
        import warnings
        import mlx_compat; mlx_compat.install()
        import torch
        import torch.jit, torch.utils.checkpoint, torch.utils._pytree as pytree
        from torchvision.ops.misc import FrozenBatchNorm2d
        assert torch.jit.is_scripting() is False and torch.compiler.is_compiling() is False
        f = lambda x: x
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            assert torch.jit.script(f) is f and w
        lin = torch.nn.Linear(3, 2)
        x = torch.randn(4, 3, requires_grad=True)
        y = torch.utils.checkpoint.checkpoint(lin, x, use_reentrant=False)
        assert torch.equal(y, lin(x))
        leaves, spec = pytree.tree_flatten({"a": [1, (2, 3)], "b": 4})
        assert leaves == [1, 2, 3, 4] and pytree.tree_unflatten([5, 6, 7, 8], spec) == {"a": [5, (6, 7)], "b": 8}
        assert pytree.tree_map(lambda v: v * 10, [1, {"k": 2}]) == [10, {"k": 20}]
        assert isinstance(torch.ones(2, dtype=torch.int64), torch.LongTensor)
        assert not isinstance(torch.ones(2), torch.LongTensor) and isinstance(torch.ones(2), torch.FloatTensor)
        assert torch.finfo(torch.float8_e4m3fn).max == 448.0 and torch.finfo(torch.float32).eps == 2 ** -23
        bn = FrozenBatchNorm2d(3)
        bn.running_mean.copy_(torch.tensor([1.0, 2.0, 3.0]))
        bn.running_var.copy_(torch.tensor([4.0, 1.0, 0.25]))
        z = torch.ones(1, 3, 1, 1)
        ref = (z - bn.running_mean.view(1, 3, 1, 1)) / (bn.running_var.view(1, 3, 1, 1) + 1e-5).sqrt()
        assert torch.allclose(bn(z), ref)
        bn.load_state_dict({"weight": torch.ones(3), "bias": torch.zeros(3), "running_mean": torch.zeros(3),
                            "running_var": torch.ones(3), "num_batches_tracked": torch.tensor(0)})
        """)


def test_library_custom_op_with_autograd():
    ok("""
        import mlx_compat; mlx_compat.install()
        import torch
        def f(x, w):
            return x * w
        op = torch.library.custom_op("mylib::mul", f, mutates_args=())
        def setup(ctx, inputs, out):
            ctx.save_for_backward(*inputs)
        def bwd(ctx, g):
            x, w = ctx.saved_tensors
            return g * w, g * x
        torch.library.register_autograd("mylib::mul", bwd, setup_context=setup)
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        w = torch.tensor([3.0, 5.0], requires_grad=True)
        torch.ops.mylib.mul(x, w).sum().backward()
        assert x.grad.tolist() == [3.0, 5.0] and w.grad.tolist() == [1.0, 2.0]
        mlx_compat.uninstall()
        assert not hasattr(mlx_compat.ops, "mylib")
        """)


def test_shim_names_on_the_package_itself():
    """`import mlx_compat as torch` finds the alias table's torch names too (the memory formats, memory_format, the
    legacy typed tensors, get_default_device), the same objects, with torch's reprs; other missing names still raise
    AttributeError."""
    import torch as real
    import mlx_compat as mc
    from mlx_compat._alias import _torch_extras

    for name in ("contiguous_format", "preserve_format", "channels_last", "channels_last_3d"):
        assert getattr(mc, name) is _torch_extras()[name]
        assert repr(getattr(mc, name)) == repr(getattr(real, name))
    assert isinstance(mc.channels_last, mc.memory_format)
    assert isinstance(mc.ones(2), mc.FloatTensor) and not isinstance(mc.ones(2), mc.LongTensor)
    assert str(mc.get_default_device()) == "cpu"
    x = mc.randn(2, 3, 4, 4)
    assert mc.equal(x.contiguous(memory_format=mc.channels_last), x)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name_xyz'"):
        mc.no_such_name_xyz
