# The README's commands. `make venv` is the idempotent set-up the others use.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test demo tour data bench clean

venv: $(STAMP)

# (Re)install when the build inputs change; the C core is rebuilt by the editable install, then again with a
# profile of typical calls (Note [Profile-guided build] in setup.py; GCC only).
$(STAMP): pyproject.toml setup.py $(wildcard mlx_compat/csrc/*.c) $(wildcard mlx_compat/csrc/*.h) mlx_compat/_blas/bridge.c \
		tools/pgo_build.py tools/pgo_workload.py
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -e '.[test,demo]'
	$(VPY) tools/pgo_build.py
	touch $(STAMP)

test: venv data
	$(VPY) -m pytest -n 2 -q -p no:cacheprovider

# The main job: train a CNN on Fashion-MNIST (mlx_compat/examples/fashion_mnist.py), with PyTorch beside it.
demo: venv data
	$(VPY) -m mlx_compat.examples.fashion_mnist $(DEMO_ARGS)

# Fashion-MNIST from Debian's package where apt-get exists (else pass DEMO_ARGS='--data DIR').
data:
	@test -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz || ! command -v apt-get >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; } || \
		echo "could not install dataset-fashion-mnist; run with DEMO_ARGS='--data DIR'"

# A tour of the tensor core and operators, printing real results.
tour: venv
	$(VPY) examples/demo.py

# The suite (bench/bench_suite.py) rewrites its device's section of BENCHMARKS.md; the micro-benchmarks after it
# print only. On the GPU: make bench BENCH_ARGS='--device cuda --full'.
BENCH_ARGS ?= --quick
bench: venv
	$(VPY) bench/bench_suite.py $(BENCH_ARGS) --write BENCHMARKS.md
	$(VPY) bench/bench_core.py
	$(VPY) bench/bench_ops.py
	$(VPY) bench/bench_blas.py
	$(VPY) bench/bench_nn.py

clean:
	rm -rf build $(VENV) mlx_compat/*.so
