# Thin front door over Meson.  Real build logic lives in meson.build.
#   make          build everything into build/
#   make demo     install what is missing, build, run a whole call here
#   make check    the full test suite (+ ASan/UBSan run + fuzz smoke run)
#   make fuzz     longer libFuzzer runs (FUZZ_SECONDS per target)
#   make bench    benchmarks; results table in bench/README.md
#   make format   reformat C sources with clang-format
.POSIX:
.PHONY: all deps build demo check test asan fuzz-smoke fuzz bench format clean

BUILD = build
ASAN = build-asan
FUZZ = build-fuzz
FUZZ_SECONDS = 300
SMOKE_SECONDS = 10
DEMO_SECONDS = 10

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	@scripts/deps.sh
	meson setup $(BUILD)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	$(BUILD)/apps/hotline demo --seconds $(DEMO_SECONDS) --out out/demo

test: build
	meson test -C $(BUILD) --print-errorlogs --num-processes 2

$(ASAN)/build.ninja:
	@scripts/deps.sh
	meson setup $(ASAN) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debugoptimized

asan: $(ASAN)/build.ninja
	ninja -C $(ASAN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN) --print-errorlogs --num-processes 2 \
		--timeout-multiplier 3

$(FUZZ)/build.ninja:
	@scripts/deps.sh
	CC=clang meson setup $(FUZZ) -Dfuzz=true -Db_lundef=false \
		-Db_sanitize=address,undefined -Dbuildtype=debugoptimized

fuzz-smoke: $(FUZZ)/build.ninja
	ninja -C $(FUZZ)
	scripts/fuzz.sh $(FUZZ) $(SMOKE_SECONDS)

fuzz: $(FUZZ)/build.ninja
	ninja -C $(FUZZ)
	scripts/fuzz.sh $(FUZZ) $(FUZZ_SECONDS)

check: test
	scripts/check-source.sh
	$(MAKE) asan
	$(MAKE) fuzz-smoke
	@echo "make check: all passed"

bench: build
	bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
