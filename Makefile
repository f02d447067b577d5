# Two commands do all the set-up on a fresh machine:
#   make book   build the book (HTML in _build/html)
#   make test   run every test
# Both create the virtual environment .venv and install the pinned stack first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test lab notebooks benchmark clean

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

## make test: unit tests, doctests, every notebook under nbval (strict), then a clean build
test: book
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
	rm -rf _build .pytest_cache .hypothesis
