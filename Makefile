# GANs for Medicine: every target creates .venv when it is missing, then uses it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JUPYTER := $(VENV)/bin/jupyter

# Real data beside the repo (as on the course's CI) is used when present.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/medmnist),)
export MEDMNIST_ROOT ?= $(SHARED_DATA)/medmnist
endif
ifneq ($(wildcard $(SHARED_DATA)/tabular),)
export COURSE_DATA_ROOT ?= $(SHARED_DATA)
endif

.PHONY: lab lab-instructor binder-url data-figure run test check expected-outputs release autograde feedback bench bench-fast bench-grading bench-speedups clean

$(VENV): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(VENV)

lab: $(VENV)  ## JupyterLab on the student notebooks
	$(JUPYTER) lab --ServerApp.root_dir=course $(if $(filter 0,$(shell id -u)),--allow-root,)

lab-instructor: $(VENV)  ## JupyterLab on the whole repository: edit solutions/, grade in Formgrader
	$(JUPYTER) lab --ServerApp.root_dir=. $(if $(filter 0,$(shell id -u)),--allow-root,)

binder-url: $(VENV)  ## the Binder link of your published copy (BINDER_REPO=owner/name, else the origin remote)
	$(PY) -m scripts.binder_url

data-figure: $(VENV)  ## build/figures/data-sources.png: the course's image data, real or stand-in, at a glance
	MPLBACKEND=Agg $(PY) -m scripts.data_figure

run: $(VENV)  ## execute every solution notebook headless into build/, one summary line each
	$(PY) -m scripts.run_notebooks $(if $(FAST),--fast,) $(NOTEBOOKS)

test: $(VENV)  ## the whole test suite: units, every solution notebook cell by cell (nbval, FAST mode), grading pipeline
	$(PY) -m pytest

check: $(VENV)  ## run solution notebooks cell by cell with nbval, as `make test` does (all, or NOTEBOOKS="03-dcgan 05")
	$(PY) -m pytest -v $(if $(NOTEBOOKS),$(foreach n,$(NOTEBOOKS),solutions/$(n)*/),solutions)

expected-outputs: $(VENV)  ## store the outputs nbval compares (cells marked NBVAL_CHECK_OUTPUT) in the solutions
	$(PY) -m scripts.nbval_outputs $(NOTEBOOKS)

release: $(VENV)  ## regenerate course/ from solutions/ with nbgrader (all, or ASSIGNMENTS="03-dcgan ...")
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) -m scripts.grading release $(ASSIGNMENTS)

# Grading options: ASSIGNMENT=03-dcgan STUDENT=alice JOBS=2 FULL=1 (default: everything, FAST mode, 1 job).
# Each kernel runs in the bubblewrap sandbox; UNSAFE_NO_SANDBOX=1 turns it off (trusted notebooks only).
GRADE_FILTER = $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT),) $(if $(STUDENT),--student $(STUDENT),)

autograde: $(VENV)  ## grade submitted/<student>/<assignment>/ (sandboxed) and write build/grades.csv
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) -m scripts.grading autograde $(GRADE_FILTER) --jobs $(or $(JOBS),1) $(if $(FULL),--full,) $(if $(UNSAFE_NO_SANDBOX),--unsafe-no-sandbox,)

feedback: $(VENV)  ## HTML feedback in feedback/<student>/<assignment>/ (hidden tests redacted)
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) -m scripts.grading feedback $(GRADE_FILTER)

bench: $(VENV)  ## full-mode cost and quality table of every notebook (+ autograde timing)
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) -m benchmarks.run $(NOTEBOOKS)

bench-fast: $(VENV)  ## the same in FAST mode (each notebook must stay under 60 s)
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) -m benchmarks.run --fast $(NOTEBOOKS)

bench-grading: $(VENV)  ## submissions per minute: STUDENTS=2 copies of every solution, JOBS=, FULL=1, UNSAFE_NO_SANDBOX=1
	PATH=$(abspath $(VENV))/bin:$$PATH $(PY) -m benchmarks.grading --students $(or $(STUDENTS),1) --jobs $(or $(JOBS),1) $(if $(FULL),--full,) $(if $(UNSAFE_NO_SANDBOX),--unsafe-no-sandbox,) $(NOTEBOOKS)

bench-speedups: $(VENV)  ## ms per training step under each CPU/GPU setting (BUSY=1: one CPU kept busy meanwhile)
	$(PY) -m benchmarks.speedups --busy $(or $(BUSY),0)

clean:
	rm -rf build
