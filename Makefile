# Front door: drives CMake in build/. `make test` on a fresh Debian machine
# installs what is missing (scripts/install-deps.sh), builds and runs ctest.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SANITIZE ?= 0
CMAKE_FLAGS ?=

CTEST_FLAGS ?=
ifeq ($(SANITIZE),1)
BUILD := $(BUILD)-sanitize
CMAKE_FLAGS += -DSANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
# the 4000-step copy training checks accuracy, not memory, and is ~10x slower
# under ASan; test_cli's small training runs the same code paths
CTEST_FLAGS += -E train_copy
endif

.PHONY: all deps configure test reproduce findings bench golden clean install

all: $(BUILD)/seqbench

deps:
	@scripts/install-deps.sh

$(BUILD)/Makefile: CMakeLists.txt tests/tests.cmake | deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

$(BUILD)/seqbench: deps $(BUILD)/Makefile FORCE
	@MAKEFLAGS=--no-print-directory cmake --build $(BUILD) -j $(JOBS)

configure: $(BUILD)/Makefile

test: $(BUILD)/seqbench
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

# Every experiments/*.json (or the ONLY=a,b ones) at PROFILE into RESULTS, one
# make target per cell (scripts/reproduce.sh, docs/reproducing.md): cells with
# a result are skipped; `make -j N reproduce` runs N cells at once with
# cores/N threads each, plain `make reproduce` one per core.
PROFILE ?= quick
ONLY ?=
RESULTS ?= results
# SEEDS=4,5,6 replaces every training cell's seeds (a second, independent run into another RESULTS)
SEEDS ?=
# the program alone (not the tests): a fresh clone's reproduce starts its cells sooner
reproduce: deps $(BUILD)/Makefile
	@MAKEFLAGS=--no-print-directory cmake --build $(BUILD) -j $(JOBS) --target seqbench
	@PROFILE='$(PROFILE)' ONLY='$(ONLY)' RESULTS='$(RESULTS)' SEEDS='$(SEEDS)' scripts/reproduce.sh $(BUILD)/seqbench $(BUILD)

# the README's findings block, rewritten from the shipped results/REPORT.md (tests/findings.sh checks they agree)
findings:
	@scripts/findings.sh --update README.md results/REPORT.md

# seqbench in $(PREFIX)/bin, its data (configs/paper, experiments) in
# $(PREFIX)/share/seqbench; DESTDIR is honoured (cmake --install reads it).
PREFIX ?= /usr/local
install: $(BUILD)/seqbench
	cmake --install $(BUILD) --prefix $(PREFIX)

# The short benchmark suite (<= 10 minutes on 2 quiet cores): the roofline
# once, then each instrument on the small presets against it, results in
# results/bench/*.json. Threads wait passively: spinning beside other work
# costs several times the runtime (core/threads.h).
BENCH_RUN = OMP_WAIT_POLICY=PASSIVE $(BUILD)/seqbench bench
BENCH_RF = --roofline results/bench/roofline.json
BENCH_ARCHS = transformer,transformer-local,mamba,mamba2,hawk,griffin,jamba
bench: $(BUILD)/seqbench
	@mkdir -p results/bench
	$(BENCH_RUN) roofline --out results/bench/roofline.json
	$(BENCH_RUN) $(BENCH_RF) --out results/bench/model-transformer.json
	$(BENCH_RUN) $(BENCH_RF) --arch mamba --out results/bench/model-mamba.json
	$(BENCH_RUN) decode $(BENCH_RF) --archs $(BENCH_ARCHS) --out results/bench/decode.json
	$(BENCH_RUN) latency $(BENCH_RF) --archs $(BENCH_ARCHS) --out results/bench/latency.json
	$(BENCH_RUN) throughput $(BENCH_RF) --archs $(BENCH_ARCHS) --lengths 512,1024,2048 --out results/bench/throughput.json
	$(BENCH_RUN) prefill $(BENCH_RF) --archs $(BENCH_ARCHS) --out results/bench/prefill.json
	$(BENCH_RUN) kernels --lengths 256,1024,4096 --out results/bench/kernels.json
	$(BENCH_RUN) memory --out results/bench/memory.json

# Regenerates the golden files from the PyTorch references (needs Debian's python3-torch).
golden:
	/usr/bin/python3 scripts/golden/llama_reference.py tests/golden
	/usr/bin/python3 scripts/golden/seqbench_reference.py tests/golden
	/usr/bin/python3 scripts/golden/mamba_reference.py tests/golden
	/usr/bin/python3 scripts/golden/mamba2_reference.py tests/golden
	/usr/bin/python3 scripts/golden/recurrent_gemma_reference.py tests/golden
	/usr/bin/python3 scripts/golden/jamba_reference.py tests/golden

clean:
	rm -rf build build-sanitize build-fuzz

FORCE:

# Fuzzing (tests/fuzz): libFuzzer + ASan/UBSan with clang-14 in build-fuzz/;
# each target runs FUZZ_SECONDS on a copy of its corpus, FUZZ_JOBS at a time.
# Fails if any target found a crash.
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZ_TARGETS ?= fuzz_json fuzz_safetensors fuzz_pattern fuzz_hf_config fuzz_tokens fuzz_spec
.PHONY: fuzz
fuzz:
	@scripts/install-deps.sh fuzz
	cmake -S . -B build-fuzz -DSEQ_FUZZ=ON -DCMAKE_C_COMPILER=clang-14
	cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	@FUZZ_JOBS=$(FUZZ_JOBS) scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Interoperability with the real Hugging Face library (scripts/interop/,
# docs/checkpoints.md): a virtual environment in build/interop-venv, made once with
# the python3 on PATH and reused, holding the pinned torch, transformers and
# safetensors from PyPI, and llama-cpp-python and gguf for bench-peers
# (scripts/requirements.txt); then seqbench -> transformers
# and transformers -> seqbench for every model type, and the broken-checkpoint
# tests, the task checks and a text model's test loss (lm_check.py). Writes
# results/interop.json. Not part of `make test`.
INTEROP_VENV ?= build/interop-venv
# llama-cpp-python's build of llama.cpp: the CPU library alone (the bench drives it through
# its C API; the multimodal, example, tool and server targets would double the build time)
LLAMACPP_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
	-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
.PHONY: interop
$(INTEROP_VENV)/.installed: scripts/requirements.txt
	@test -x $(INTEROP_VENV)/bin/python || python3 -m venv $(INTEROP_VENV) || \
		{ echo "make interop: 'python3 -m venv' failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
	CMAKE_ARGS="$(LLAMACPP_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) PIP_DISABLE_PIP_VERSION_CHECK=1 \
		$(INTEROP_VENV)/bin/python -m pip install -r scripts/requirements.txt
	touch $@
interop: $(BUILD)/seqbench $(INTEROP_VENV)/.installed
	$(INTEROP_VENV)/bin/python scripts/interop/run.py --seqbench $(BUILD)/seqbench \
		--work $(BUILD)/interop-work --out results/interop.json

# seqbench's Transformer and transformers' LlamaForCausalLM trained side by side (issue 29):
# the same initial weights (train --steps 0 --save), the same batches (sample --split train),
# the same masked loss, AdamW, schedule and clipping; their learning curves compared
# (scripts/interop/learning_curve.py, docs/checkpoints.md). One thread, about a minute;
# writes results/learning-curve.json. The interop venv; not part of `make test`.
.PHONY: learning-curve
learning-curve: $(BUILD)/seqbench $(INTEROP_VENV)/.installed
	$(INTEROP_VENV)/bin/python scripts/interop/learning_curve.py --seqbench $(BUILD)/seqbench \
		--work $(BUILD)/learning-curve-work --out results/learning-curve.json

# seqbench side by side with PyTorch, Hugging Face transformers and llama.cpp (scripts/peers/,
# docs/benchmarks.md "Peers"): the same shapes, fp32 (llama.cpp also f16 and bf16), random
# weights, PEERS_THREADS threads, in one run; writes results/bench-peers.json and .md and the table between
# the bench-peers markers of PEERS_DOC (docs/benchmarks.md; PEERS_DOC= writes no page).
# Uses the interop venv (made if missing; an existing one is
# not reinstalled: one made before llama-cpp-python was pinned gets it with
# `make build/interop-venv/.installed`, or PEERS_FLAGS=--no-llamacpp skips llama.cpp);
# not part of `make test`. Every seqbench figure is measured again with
# one core kept busy (PEERS_FLAGS=--no-busy skips that). About 15 minutes on 2 cores at
# load 7, a quarter of it the busy-core reruns, before llama.cpp was added; llama.cpp's
# checks and rounds take 2.3 minutes more (6.1 in all at load 1.2-3.2). PEERS_FLAGS=
# --only-llamacpp: the llama.cpp rows alone, about 3 minutes.
PEERS_THREADS ?= 2
PEERS_DOC ?= docs/benchmarks.md
PEERS_FLAGS ?=
.PHONY: bench-peers
# an existing venv is used as it is: no pip run against someone else's environment
bench-peers: $(BUILD)/seqbench
	@test -f $(INTEROP_VENV)/.installed || $(MAKE) --no-print-directory $(INTEROP_VENV)/.installed
	@mkdir -p results
	$(INTEROP_VENV)/bin/python scripts/peers/run.py --seqbench $(BUILD)/seqbench --work $(BUILD)/peers-work \
		--out results/bench-peers.json --threads $(PEERS_THREADS) $(if $(PEERS_DOC),--doc $(PEERS_DOC)) \
		$(PEERS_FLAGS)

# A one-node Slurm on this machine (scripts/slurm/local-cluster.sh: as root,
# installs slurm-wlm and munge, starts the daemons under a temporary directory
# and stops them): the smoke profile submitted by scripts/slurm/submit.sh as a
# job array must write every result and the REPORT.md of `make reproduce`.
# Not part of `make test`.
.PHONY: test-slurm
test-slurm: $(BUILD)/seqbench
	@scripts/slurm/local-cluster.sh $(BUILD)/seqbench
