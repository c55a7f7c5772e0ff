# The README's two commands: `make run` and `make test`. Both install the pinned set into .venv
# first; the install is skipped while requirements.lock and pyproject.toml are unchanged.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
# Keras 2 (tf_keras) for every process: TFX 1.16's Transform layer and Trainer need it.
export TF_USE_LEGACY_KERAS := 1

.PHONY: install browser run test shared clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==24.2 setuptools==84.2.1 wheel==0.48.0
	# TFX 1.16 declares Python <3.11 but runs here; the lock pins every package, so pip does not backtrack.
	$(BIN)/python -m pip install --quiet --ignore-requires-python -r requirements.lock
	$(BIN)/python -m pip install --quiet --ignore-requires-python --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $@

# Headless Chromium renders `flowers report` in its tests: Debian's package, installed when missing.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

run: install
	$(BIN)/flowers run $(ARGS)

test: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The real photos and ImageNet weights the tests and benchmarks read (../shared, or $FLOWERS_SHARED),
# downloaded from their public origins and verified. Needs the internet.
shared: install
	$(BIN)/flowers data fetch $(ARGS)

clean:
	rm -rf outputs .pytest_cache
