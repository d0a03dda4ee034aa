# The README's commands. `make venv` is the idempotent set-up the others use.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test demo bench clean

venv: $(STAMP)

# (Re)install when the build inputs change; the C core is rebuilt by the editable install.
$(STAMP): pyproject.toml setup.py $(wildcard mlx_compat/csrc/*.c) $(wildcard mlx_compat/csrc/*.h) mlx_compat/_blas/bridge.c
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -e '.[test]'
	touch $(STAMP)

test: venv
	$(VPY) -m pytest -n 2 -q -p no:cacheprovider

demo: venv
	$(VPY) examples/demo.py

bench: venv
	$(VPY) bench/bench_core.py
	$(VPY) bench/bench_ops.py

clean:
	rm -rf build $(VENV) mlx_compat/*.so
