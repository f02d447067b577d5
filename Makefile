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

.PHONY: book book-offline mathjax test lab notebooks benchmark clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $(STAMP)

## make book: build the HTML book from clean, every warning an error
book: $(STAMP)
	rm -rf _build
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

## make book-offline: the same book, with MathJax served from the book itself
## (_static/mathjax/) instead of a CDN, so that it reads without the internet
book-offline: $(STAMP) $(MATHJAX_JS)
	rm -rf _build _mathjax
	mkdir -p _build _mathjax
	ln -s ../node_modules/mathjax/es5 _mathjax/mathjax
	$(BIN)/python -c "$$OFFLINE_CONFIG" _config.yml _build/_config.offline.yml
	$(BIN)/jupyter-book build . --config _build/_config.offline.yml --all -W -n --keep-going
	@echo "The book (MathJax included) is at $(CURDIR)/_build/html/index.html"

# _config.yml, with mathjax_path pointing at the local copy, which Sphinx
# copies from its own folder (_mathjax/, listed in html_static_path; not
# _static/, whose every .js would be loaded by every page) into _static/mathjax/.
define OFFLINE_CONFIG
import sys, yaml
with open(sys.argv[1], encoding="utf8") as f:
    config = yaml.safe_load(f)
config["exclude_patterns"].append("_mathjax")
sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
sphinx["mathjax_path"] = "mathjax/tex-mml-chtml.js"
sphinx["html_static_path"] = ["_mathjax"]
with open(sys.argv[2], "w", encoding="utf8") as f:
    yaml.safe_dump(config, f, allow_unicode=True, sort_keys=False)
endef
export OFFLINE_CONFIG

## make mathjax: install the local copy of MathJax (npm ci, into node_modules/)
mathjax: $(MATHJAX_JS)

$(MATHJAX_JS): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

## make test: unit tests, doctests, every notebook under nbval (strict), then a clean build
## (the browser test serves MathJax from the local copy: installed here if npm is there)
test: book
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory mathjax; \
	else echo "npm not found: the browser test will be skipped (it needs the local MathJax copy, make mathjax)"; fi
	$(BIN)/python -m pytest

## make lab: open the chapters in JupyterLab
lab: $(STAMP)
	$(BIN)/python -m pip install --quiet jupyterlab==4.6.6
	$(BIN)/jupyter lab chapters

## make notebooks: re-execute every notebook in place (after changing src/ or a chapter)
notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py

## make benchmark: time elbo_gradient against the cost of sampling and a naive loop
benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_elbo_gradient.py

clean:
	rm -rf _build _mathjax .pytest_cache .hypothesis
