# Two entry points, both self-contained on a fresh machine with Python 3.11 and make:
#   make run    the main job on the embedded default case, report in output/default/
#   make test   the whole test suite
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
export OMPI_MCA_osc ?= ^ucx
export OMPI_ALLOW_RUN_AS_ROOT ?= 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM ?= 1
export MPLBACKEND ?= Agg

.PHONY: install run test clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/planner run data/cases/default.toml --output output/default

test: install
	$(PY) -m pytest -n 2 --dist loadfile -q

clean:
	rm -rf $(VENV) output
