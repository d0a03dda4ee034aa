"""Run the exception-parity corpus against one library in this process and print one JSON line per case.

    python tests/fuzz/runner.py torch|mlx_compat [START]

Each line is [id, outcome]: ["ok", <result summary>] or ["raise", <exception type name>]; a case that runs past
its time limit is ["timeout"]. Cases start at index START (the test restarts after a crash from the next case).
"""
import json
import os
import signal
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(os.path.dirname(HERE)))  # the checkout, for mlx_compat

CASE_SECONDS = 10


def summary(r, lib, depth=0):
    """What is compared of a successful result: a tensor's dtype and shape, a sequence's items, a scalar's type."""
    if isinstance(r, lib.Tensor):
        return ["T", str(r.dtype).rsplit(".", 1)[-1], list(r.shape)]
    if isinstance(r, (tuple, list)) and depth < 2:
        return ["seq", type(r).__name__ if type(r) in (tuple, list) else "tuple",
                [summary(v, lib, depth + 1) for v in r[:8]], len(r)]
    if isinstance(r, (bool, int, float, complex, str, type(None))):
        return [type(r).__name__]
    return ["obj"]


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def main():
    name = sys.argv[1]
    start = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    import numpy as np
    import torch as ref

    import mlx_compat
    import corpus

    lib = ref if name == "torch" else mlx_compat
    cases = corpus.build(ref, mlx_compat)
    warnings.simplefilter("ignore")
    signal.signal(signal.SIGALRM, _alarm)
    out = sys.stdout
    for k in range(start, len(cases)):
        cid, rkey, code, stmt = cases[k]
        out.write(json.dumps(["start", k]) + "\n")
        out.flush()
        ns = {"torch": lib, "np": np}
        signal.alarm(CASE_SECONDS)
        try:
            ns["x"] = x = eval(corpus.RECEIVERS[rkey], ns)
            if stmt:
                exec(code, ns)
                res = ["ok", summary(x, lib)]
            else:
                res = ["ok", summary(eval(code, ns), lib)]
        except _Timeout:
            res = ["timeout"]
        except Exception as e:  # noqa: BLE001 - the type is the outcome
            res = ["raise", type(e).__name__]
        finally:
            signal.alarm(0)
        out.write(json.dumps([cid, res]) + "\n")
        out.flush()
    out.write(json.dumps(["done", len(cases)]) + "\n")


if __name__ == "__main__":
    main()
