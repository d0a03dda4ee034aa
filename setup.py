# The C core (mlx_compat._C) is plain C11 against the CPython API; setuptools builds it.
# On Linux also the BLAS/LAPACK bridge (mlx_compat/_blas/bridge.c): a plain shared library, no Python API,
# that mlx_compat/_blas loads with ctypes (docs/architecture.md, "Linux CPU: BLAS and LAPACK").
# Everything else about the package lives in pyproject.toml.
import sys
from glob import glob

from setuptools import Extension, setup

WARNINGS = ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
            "-Wno-cast-function-type"]

extensions = [
    Extension(
        "mlx_compat._C",
        sources=sorted(glob("mlx_compat/csrc/*.c")),
        depends=sorted(glob("mlx_compat/csrc/*.h")),
        extra_compile_args=["-std=c11", "-O2", *WARNINGS],
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
