# Two commands do all the set-up on a fresh machine:
#   make book   build the book (HTML in _build/html)
#   make test   run every test
# Both create the virtual environment .venv and install the pinned stack first.
# The browser test also needs Chromium (apt-get install chromium) and npm (for
# the local copy of MathJax); without them it is skipped, except in CI.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The local copy of MathJax 3 (npm package, version pinned in package.json).
MATHJAX_JS := node_modules/mathjax/es5/tex-mml-chtml.js

# The repository's address, for the repository and launch buttons; empty by
# default (no buttons). `make book REPOSITORY_URL=https://github.com/OWNER/NAME`
REPOSITORY_URL ?=
REPOSITORY_BRANCH ?= main
REPOSITORY_ARGS := $(if $(REPOSITORY_URL),--repository-url $(REPOSITORY_URL) --branch $(REPOSITORY_BRANCH))

.PHONY: book book-offline mathjax test test-fast lint fuzz lab notebooks benchmark clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $(STAMP)

## make book: build the HTML book from clean, every warning an error.
## With REPOSITORY_URL=https://github.com/OWNER/NAME (the publishing workflow
## sets it) the pages get repository, issue and launch (Colab, Binder) buttons;
## without it they have none (tools/book_config.py).
book: $(STAMP)
	rm -rf _build
	mkdir -p _build
	$(BIN)/python tools/book_config.py _build/_config.build.yml $(REPOSITORY_ARGS)
	$(BIN)/jupyter-book build . --config _build/_config.build.yml --all -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

## make book-offline: the same book, with MathJax served from the book itself
## (_static/mathjax/) instead of a CDN, so that it reads without the internet
book-offline: $(STAMP) $(MATHJAX_JS)
	rm -rf _build _mathjax
	mkdir -p _build _mathjax
	ln -s ../node_modules/mathjax/es5 _mathjax/mathjax
	$(BIN)/python tools/book_config.py _build/_config.offline.yml --offline-mathjax _mathjax $(REPOSITORY_ARGS)
	$(BIN)/jupyter-book build . --config _build/_config.offline.yml --all -W -n --keep-going
	@echo "The book (MathJax included) is at $(CURDIR)/_build/html/index.html"

## make mathjax: install the local copy of MathJax (npm ci, into node_modules/)
mathjax: $(MATHJAX_JS)

$(MATHJAX_JS): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

## make test: the linters (make lint), a clean build, then unit tests, doctests, the
## fast fuzz profile and every notebook under nbval (strict), and the browser test
## (which serves MathJax from the local copy: installed here if npm is there)
test: lint book
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory mathjax; \
	else echo "npm not found: the browser test will be skipped (it needs the local MathJax copy, make mathjax)"; fi
	$(BIN)/python -m pytest -n 2 --dist loadfile

## make test-fast: the package's unit tests and doctests only: no book, no notebooks
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests src \
		--ignore=tests/test_browser.py --ignore=tests/test_notebooks_committed.py \
		--ignore=tests/test_reader.py --ignore=tests/test_workflows.py \
		--ignore=tests/test_exercises.py --ignore=tests/test_fuzz.py

## make fuzz: the property-based fuzz suite, with many examples per property
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -n 2 tests/test_fuzz.py

## make lint: ruff (lint and format check), mypy on src/, numpydoc's docstring
## validation, actionlint (with ShellCheck) on the workflows, ShellCheck on .ci/run
LINTED := src tests tools benchmarks chapters _ext
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(BIN)/numpydoc lint $(wildcard src/elbo_grad/*.py)
	$(BIN)/actionlint -shellcheck=$(BIN)/shellcheck -pyflakes= .github/workflows/*.yml
	$(BIN)/shellcheck .ci/run

## make lab: open the chapters in JupyterLab
lab: $(STAMP)
	$(BIN)/python -m pip install --quiet jupyterlab==4.6.6
	$(BIN)/jupyter lab chapters

## make notebooks: re-execute every notebook in place (after changing src/ or a chapter)
notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py

## make benchmark: elbo_gradient's time as a ratio to sampling alone (and to PyTorch, if installed)
benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_elbo_gradient.py

clean:
	rm -rf _build _mathjax .pytest_cache .hypothesis .ruff_cache .mypy_cache
