# Two commands a newcomer needs (see README): `make demo` and `make test`.
# Both create the virtual environment and install everything on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check -q
export HF_HUB_OFFLINE ?= 1
export OMP_NUM_THREADS ?= 2

.PHONY: setup test demo tables lint bench-retrieval contact-sheet clean-outputs

setup: $(VENV)/.installed

$(VENV)/.installed: setup.py constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP_INSTALL) --upgrade pip setuptools wheel
	$(PIP_INSTALL) -c constraints.txt -e '.[dev]'
	touch $@

test: setup
	$(PY) -m pytest -q tests

lint: setup
	$(VENV)/bin/ruff check rganet_reid tools tests

demo: setup
	$(PY) tools/demo.py

# Every table of projects/RGANet/README.md (trains only what is missing; resumable).
TABLE_SPECS := $(addprefix projects/RGANet/benchmarks/,leaderboard.yaml tables_i_iii.yaml \
	table_v.yaml regions.yaml table_vi.yaml fig3.yaml table_vii.yaml)
tables: setup
	$(PY) tools/benchmark.py --spec $(TABLE_SPECS) --readme projects/RGANet/README.md

bench-retrieval: setup
	$(PY) tools/bench_retrieval.py --preset small

contact-sheet: setup
	$(PY) tools/render_contact_sheet.py --root data --out output/synthocc_contact_sheet.png

clean-outputs:
	rm -rf output log
