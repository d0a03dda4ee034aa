"""The profile-guided build of the C core (Note [Profile-guided build] in setup.py), run by `make venv` after the
editable install: mlx_compat._C built instrumented, tools/pgo_workload.py run on it (on the CPU, then on 'cuda'
under the fake GPU), and _C built again, in place, with that profile (and link-time optimised; where the toolchain
cannot, without). With a compiler other than GCC the plain build stays; if a stage fails, the plain build is made
again and a warning says why.

    python tools/pgo_build.py
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "build", "pgo")
TEMP = os.path.join(WORK, "temp")  # one object directory for both stages: the profile files are named after it
DATA = os.path.join(WORK, "data")


def _is_gcc():
    """Whether the compiler Python builds extensions with is GCC (on macOS `gcc` is clang)."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    try:
        out = subprocess.run([cc[0], "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Free Software Foundation" in out


def _build(stage, lto=True):
    """setup.py build_ext in place, every file recompiled, with MLX_COMPAT_PGO=`stage` (None: plain); lto=False
    sets MLX_COMPAT_LTO=0 (the optimised stage without link-time optimisation)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MLX_COMPAT_PGO", "MLX_COMPAT_LTO")}
    if stage is not None:
        env["MLX_COMPAT_PGO"] = stage
    if not lto:
        env["MLX_COMPAT_LTO"] = "0"
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace", "--force", "-j", "2",
                    "--build-temp", TEMP], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _workload(fake_gpu):
    env = {k: v for k, v in os.environ.items() if k not in ("MLX_COMPAT_FAKE_GPU", "MLX_COMPAT_DEVICE_SCOPE")}
    if fake_gpu:
        env["MLX_COMPAT_FAKE_GPU"] = "1"
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "pgo_workload.py")], cwd=ROOT, env=env, check=True)


def main():
    if not _is_gcc():
        print("pgo_build: not GCC; the plain build stays", file=sys.stderr)
        return 0
    shutil.rmtree(WORK, ignore_errors=True)
    try:
        _build(f"generate:{DATA}")
        _workload(False)
        _workload(True)
        try:
            _build(f"use:{DATA}")
        except (OSError, subprocess.CalledProcessError) as e:
            # a GCC whose linker cannot run its LTO plugin ("could not run lto-wrapper"): keep the profile
            print(f"pgo_build: {e}; building with the profile, without link-time optimisation", file=sys.stderr)
            _build(f"use:{DATA}", lto=False)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"pgo_build: {e}; building without a profile", file=sys.stderr)
        _build(None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
