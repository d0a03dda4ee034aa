"""`python -m mlx_compat.run script.py [args]`: run an unmodified `import torch` program on mlx_compat.

Installs the import alias (mlx_compat._alias.install) and then runs the script as `__main__` with sys.argv and
sys.path[0] set as `python script.py [args]` would. `python -m mlx_compat.run -m package.module [args]` runs a
module the way `python -m package.module` does.
"""
from __future__ import annotations

import os
import runpy
import sys

from ._alias import install

USAGE = "usage: python -m mlx_compat.run script.py [args ...]\n       python -m mlx_compat.run -m module [args ...]"


def main(argv=None):
    """Run the program named by argv (default sys.argv[1:]) under the torch alias. Returns nothing; the program's
    own SystemExit propagates as with `python script.py`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        raise SystemExit(2 if not argv else 0)
    install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print(USAGE, file=sys.stderr)
            raise SystemExit(2)
        sys.argv = [argv[1]] + argv[2:]
        sys.path.insert(0, os.getcwd())
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return
    script = argv[0]
    if not os.path.exists(script):
        print(f"python -m mlx_compat.run: can't open file '{script}': No such file or directory", file=sys.stderr)
        raise SystemExit(2)
    sys.argv = argv
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
