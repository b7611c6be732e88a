# The two commands a new machine needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run test lint install constraints chromium spamassassin email-css axe assets translations demo-data clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Pin the exact versions of a fresh install of pyproject.toml's ranges.
constraints:
	rm -rf /tmp/pressroom-constraints && $(PYTHON) -m venv /tmp/pressroom-constraints
	/tmp/pressroom-constraints/bin/pip install --quiet -e '.[test]'
	( echo "# Exact versions the test suite passed with; \`make install\` installs within these (pip -c)."; \
	  echo "# Regenerate after changing pyproject.toml: make constraints"; \
	  /tmp/pressroom-constraints/bin/pip freeze --exclude-editable | grep -v -iE '^(pip|setuptools|wheel)==' ) > constraints.txt

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing Debian chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# Debian's SpamAssassin (its shipped rules) for tests/test_spamassassin.py, which is
# skipped without it.
spamassassin:
	@if ! command -v spamassassin >/dev/null; then \
	  echo "installing Debian spamassassin for the spam-rule check"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq spamassassin >/dev/null \
	    || echo "spamassassin could not be installed: the spam-rule check will be skipped"; \
	fi

# caniemail data for tests/test_rendering_css.py (the test is skipped without node).
email-css:
	@if command -v npm >/dev/null && [ ! -d tests/email_css/node_modules ]; then \
	  npm ci --prefix tests/email_css --silent --no-audit --no-fund || echo "npm ci failed: email CSS check will be skipped"; \
	fi

# axe-core for the accessibility checks of the browser tests (tests/support/axe.py;
# those tests are skipped without it).
axe:
	@if command -v npm >/dev/null && [ ! -d tests/axe/node_modules ]; then \
	  npm ci --prefix tests/axe --silent --no-audit --no-fund || echo "npm ci failed: accessibility checks will be skipped"; \
	fi

# The editor's CodeMirror bundle (static/admin/vendor/, committed): only needed after
# changing assets/package.json or assets/src/. Rebuilds the bundle and its manifest.
assets:
	npm ci --prefix assets --no-audit --no-fund
	node assets/build.mjs

# Readers' languages (app/translations): after changing a reader-facing string,
# extract it, merge it into the de/fr/es catalogues (translate the new entries),
# and compile. The compiled .mo files are committed, so `make run` needs no step.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k lazy_gettext \
	  --no-location --sort-output --omit-header -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations -w 100 -N --ignore-obsolete
	$(BIN)/pybabel compile -d app/translations --statistics

# Links, media snippets and the login URL follow PORT unless PRESSROOM_BASE_URL says
# otherwise. The server runs in the foreground, so Ctrl-C reaches it as it would
# outside make; on the way out the shell stops the worker too (it drains its batch).
run: $(STAMP)
	@export PRESSROOM_BASE_URL="$${PRESSROOM_BASE_URL:-http://127.0.0.1:$(PORT)}"; \
	  $(BIN)/pressroom db upgrade && $(BIN)/pressroom demo || exit 1; \
	  echo "Pressroom admin: $$PRESSROOM_BASE_URL/admin/login  (Ctrl-C stops the server and the worker)"; \
	  $(BIN)/pressroom worker & worker=$$!; \
	  trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	  $(BIN)/pressroom run --port $(PORT) || true

# SQLite always; PostgreSQL too when PRESSROOM_TEST_DATABASE_URL is set. The two
# passes share nothing (own databases, free ports, temporary directories), so
# they run side by side: most of a test's time is waiting on a browser, the
# database or a subprocess, and the suite takes about half as long. The SQLite
# pass's report is printed after the PostgreSQL one.
test: $(STAMP) chromium spamassassin email-css axe
	@if [ -z "$$PRESSROOM_TEST_DATABASE_URL" ]; then exec $(BIN)/pytest -q $(PYTEST_ARGS); fi; \
	  log=$$(mktemp); \
	  env -u PRESSROOM_TEST_DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS) > $$log 2>&1 & lite=$$!; \
	  echo "== PostgreSQL ($$PRESSROOM_TEST_DATABASE_URL); SQLite runs alongside, its report follows =="; \
	  $(BIN)/pytest -q $(PYTEST_ARGS); pg=$$?; \
	  wait $$lite; sqlite=$$?; \
	  echo "== SQLite =="; cat $$log; rm -f $$log; \
	  echo "== PostgreSQL exit $$pg, SQLite exit $$sqlite =="; \
	  [ $$pg -eq 0 ] && [ $$sqlite -eq 0 ]

# Style, formatting, types (strict mypy over app/) and the layers contract (no import cycles).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache
