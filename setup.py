# The C core (mlx_compat._C) is plain C11 against the CPython API; setuptools builds it.
# On Linux also the BLAS/LAPACK bridge (mlx_compat/_blas/bridge.c): a plain shared library, no Python API,
# that mlx_compat/_blas loads with ctypes (docs/architecture.md, "Linux CPU: BLAS and LAPACK").
# Everything else about the package lives in pyproject.toml.
import os
import sys
from glob import glob

from setuptools import Extension, setup

WARNINGS = ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
            "-Wno-cast-function-type"]


# Note [Profile-guided build]
# A call through the C core costs about 0.1 us over raw MLX's own (bench/bench_dispatch.py), and what is left of
# it is the instruction-cache and branch footprint of the hot paths, spread over many functions (BENCHMARKS.md),
# which is what GCC's profile-guided optimisation lays out: hot blocks together, cold ones moved away, branches
# ordered as they go. `make venv` builds `_C` twice through tools/pgo_build.py: instrumented
# (MLX_COMPAT_PGO=generate:DIR), run on tools/pgo_workload.py (typical tensor, autograd, nn, optimizer and
# compile calls, on the CPU and the fake GPU), then optimised with that profile (MLX_COMPAT_PGO=use:DIR).
# Functions the run never reached are compiled as without a profile (-fprofile-partial-training). The optimised
# stage is also link-time optimised, so the profile's hot calls between our files are inlined and laid out
# together as those within a file are, and calls into libpython go through the GOT without a PLT stub each
# (-fno-plt): bench/bench_dispatch.py's geometric mean 1.09x -> 1.05-1.06x raw MLX on this CPU (two alternated
# runs, BENCHMARKS.md). Where the linker cannot run GCC's LTO plugin (an H100 machine's /opt/gcc with the system
# ld), tools/pgo_build.py builds that stage again with MLX_COMPAT_LTO=0: the profile without link-time optimisation
# (there 1.08-1.09x -> 1.05-1.06x too). GCC only (other compilers build the plain way), and never a change of
# behaviour: the same C, laid out differently.
def _pgo_flags():
    """(compile, link) flags of the profile-guided build stage MLX_COMPAT_PGO names, if any."""
    mode, _, where = os.environ.get("MLX_COMPAT_PGO", "").partition(":")
    if mode == "generate":
        return ["-fprofile-generate", "-fprofile-update=atomic", f"-fprofile-dir={where}"], ["-fprofile-generate"]
    if mode == "use":
        lto = ["-fno-plt"] if os.environ.get("MLX_COMPAT_LTO") == "0" else ["-flto=auto", "-fno-plt"]
        return (["-fprofile-use", f"-fprofile-dir={where}", "-fprofile-partial-training", "-Wno-missing-profile", *lto],
                ["-O2", *lto])
    return [], []


PGO_COMPILE, PGO_LINK = _pgo_flags()
extensions = [
    Extension(
        "mlx_compat._C",
        sources=sorted(glob("mlx_compat/csrc/*.c")),
        depends=sorted(glob("mlx_compat/csrc/*.h")),
        extra_compile_args=["-std=c11", "-O2", *WARNINGS, *PGO_COMPILE],
        extra_link_args=PGO_LINK,
    )
]
if sys.platform.startswith("linux"):
    extensions.append(
        Extension(
            "mlx_compat._blas._bridge",
            sources=["mlx_compat/_blas/bridge.c"],
            libraries=["dl"],
            extra_compile_args=["-std=c11", "-O2", "-fvisibility=hidden", *WARNINGS],
        )
    )

setup(ext_modules=extensions)
