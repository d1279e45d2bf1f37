# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

ROUTEPLAN_SHARED_DATA ?= ../shared/data
OSM_FILE ?= $(ROUTEPLAN_SHARED_DATA)/osm/porto_portugal.osm.pbf
# pytest-xdist workers: one per core, at most 4 (servers and databases are per test or worker).
PYTEST_WORKERS ?= auto

.PHONY: venv demo demo-osm check test browser bench-quick lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/routeplan demo --out demo-output

demo-osm: $(STAMP)
	$(VENV)/bin/routeplan demo --out demo-output-osm --osm-file $(OSM_FILE)

check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Headless Chromium for tests/browser: Debian's package, installed when missing and root.
# Never fails the build: without it the browser tests skip with the reason (fail in CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || \
	echo "make browser: chromium not installed (needs root and Debian's packages):" \
	"the browser tests will skip"; }

test: check browser
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadfile

bench-quick: $(STAMP)
	$(VENV)/bin/routeplan bench vrp --quick --strict --out bench-output/quick

lint: check

clean:
	rm -rf $(VENV) demo-output .pytest_cache
