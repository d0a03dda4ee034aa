# The C core (mlx_compat._C) is plain C11 against the CPython API; setuptools builds it.
# Everything else about the package lives in pyproject.toml.
from glob import glob

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "mlx_compat._C",
            sources=sorted(glob("mlx_compat/csrc/*.c")),
            depends=sorted(glob("mlx_compat/csrc/*.h")),
            extra_compile_args=["-std=c11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers", "-Wno-cast-function-type"],
        )
    ]
)
