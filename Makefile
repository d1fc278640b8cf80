# medula — build, test, demo, bench.
#   make            build build/medula
#   make demo       run the demo on a generated chest CT (outputs in build/demo)
#   make test       run the busted specs under the built host and under sanitizers
#   make test-release / make test-asan   one of the two halves
#   make bench      print speed ratios against the Python peers
#   make samples    fetch the real sample files from their Debian packages
#   make install PREFIX=/usr/local

PREFIX   ?= /usr/local
CC       ?= cc
BUILD    ?= build
MODE     ?= release
OPENMP   ?= 1

# The REPL edits lines with libedit. LIBEDIT=0 builds it with plain line
# input instead (and does not ask for libedit-dev); so does a build where
# pkg-config cannot find libedit. Checked when compiling, after deps ran.
ifeq ($(LIBEDIT),0)
DEB_EDIT  :=
EDIT_PKG  :=
else
DEB_EDIT  := libedit-dev
EDIT_PKG   = $(if $(shell pkg-config --exists libedit 2>/dev/null && echo y),libedit)
endif
EDIT_FLAG  = $(if $(EDIT_PKG),,-DMD_NO_LIBEDIT)

# Debian packages the build, the specs and the benchmark need.
DEB_BUILD := gcc make pkg-config liblua5.4-dev zlib1g-dev libdeflate-dev $(DEB_EDIT) libpng-dev libcharls-dev libopenjp2-7-dev libjpeg-dev
DEB_TEST  := util-linux lua5.4 lua-busted lua-dkjson python3-numpy python3-nibabel python3-scipy python3-skimage dcm2niix python3-pydicom plastimatch slurm-wlm munge parallel snakemake procps g++ libinsighttoolkit5-dev python3-vtk9 python3-matplotlib valgrind
DEB_ALL   := $(DEB_BUILD) $(DEB_TEST)

PKGS      = lua5.4 zlib libdeflate libpng charls libopenjp2 libjpeg $(EDIT_PKG)
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wdouble-promotion \
            -Wno-unused-parameter
ifeq ($(MODE),debug)
OPT      := -O0 -g -DMD_DEBUG
else ifeq ($(MODE),asan)
OPT      := -O2 -g -fsanitize=address,undefined -fno-omit-frame-pointer -DMD_DEBUG
LDFLAGS  += -fsanitize=address,undefined
else
OPT      := -O2 -g
endif
ifeq ($(OPENMP),1)
OMPFLAG  := -fopenmp
else
WARN     += -Wno-unknown-pragmas
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# -fno-math-errno: nothing reads errno after a math call, and without it
# sqrt and the vector libm calls do not vectorise.
CFLAGS   += -std=c11 -D_GNU_SOURCE -fno-math-errno $(OPT) $(WARN) $(OMPFLAG) $(EDIT_FLAG) $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += $(OMPFLAG) -Wl,-E
# Scratch memory counted against the memory budget (src/core/memwrap.c).
CFLAGS   += -DMD_WRAP_MALLOC
LDFLAGS  += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
LDLIBS   += $(PKG_LIBS) -lm -ldl

# The float32 exp/log evaluations vectorise only with these (see the file).
MATH_FLAGS := -fno-trapping-math -ffp-contract=fast
$(BUILD)/obj/src/kernels/arith_math.o: CFLAGS += $(MATH_FLAGS)

SRC  := $(wildcard src/*.c src/core/*.c src/io/*.c src/kernels/*.c src/bind/*.c)
OBJ  := $(SRC:%.c=$(BUILD)/obj/%.o)
BIN  := $(BUILD)/medula
SAMPLES ?= $(BUILD)/samples

.PHONY: all deps test test-release test-asan asan demo bench samples install clean check-layers fuzz docs dicom-dict check-exp-log
all: deps $(BIN)

# Installs missing Debian packages when root, otherwise names them and stops.
deps:
	@sh tools/deps.sh $(DEB_ALL)

$(BIN): $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(BUILD)/obj/%.o: %.c | check-layers deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The C layers below the binding never include Lua.
check-layers:
	@if grep -lE '#include *[<"](lua|lauxlib|lualib)' src/core/*.[ch] src/io/*.[ch] src/kernels/*.[ch] 2>/dev/null; then \
	  echo "error: the files above include a Lua header (only src/bind and the host may)"; exit 1; fi

# Real sample files: ../shared/data when present, otherwise fetched from Debian.
samples: deps
	@sh tools/samples.sh $(SAMPLES)

# make test: every spec under the release build and again under address and
# undefined-behaviour sanitizers, two spec files at a time (tools/specs.sh;
# logs in $(BUILD)/specs). make test-release and make test-asan run one half.
ASAN_BIN := $(BUILD)/medula-asan
# handle_segv=0: a process killed by SIGSEGV dies by it (the runner's specs
# send one and expect the signal), as the release build does.
SAN_ENV  := ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:handle_segv=0:max_malloc_fill_size=1073741824 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
SPECS     = MEDULA_SAMPLES=$(abspath $(SAMPLES)) $(SAN_ENV) sh tools/specs.sh $(BUILD)/specs

test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) $(BIN) asan
	@test -d ../shared/data || $(MAKE) --no-print-directory samples
	$(SPECS) asan=$(ASAN_BIN) release=$(BIN)

test-release: all
	@test -d ../shared/data || $(MAKE) --no-print-directory samples
	$(SPECS) release=$(BIN)

test-asan: deps asan
	@test -d ../shared/data || $(MAKE) --no-print-directory samples
	$(SPECS) asan=$(ASAN_BIN)

# The sanitizer build: own objects in $(BUILD)/asan, -O2 (the suite runs
# about twice as fast as at -O1).
asan:
	@$(MAKE) --no-print-directory MODE=asan BUILD=$(BUILD)/asan BIN=$(ASAN_BIN)

demo: all
	$(BIN) scripts/demo.lua $(BUILD)/demo

# The API reference is generated from the docstrings.
# The DICOM dictionary table from its data file (src/io/dicom_dict.tsv).
dicom-dict: all
	$(BIN) tools/gen_dicom_dict.lua

docs: all
	$(BIN) tools/gendoc.lua docs/api/reference.md

bench: all
	@sh bench/run.sh $(BIN)

# Every float32 input of the float32 exp/log fast path against libm
# (tools/exp_log_check.c), built for plain x86-64 and for this processor.
check-exp-log:
	@mkdir -p $(BUILD)
	@for arch in $$(test "$$(uname -m)" = x86_64 && echo x86-64) native; do \
	  $(CC) -std=c11 -D_GNU_SOURCE -fno-math-errno $(MATH_FLAGS) -O2 -march=$$arch -DMD_NO_CLONES $(OMPFLAG) \
	    tools/exp_log_check.c -o $(BUILD)/exp_log_check-$$arch -lm && \
	  echo "-march=$$arch:" && $(BUILD)/exp_log_check-$$arch || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/medula
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/medula
	cp -r lua scripts $(DESTDIR)$(PREFIX)/share/medula/

# Fuzzing every reader (clang's libFuzzer, address + undefined sanitizers):
# make fuzz [FUZZ_SECONDS=60] [FUZZ_RUNS=1000000] [FUZZ_TARGETS="nifti dicom"] [FUZZ_JOBS=2]
# (targets: tests/fuzz/fuzz_*.c; seeds: the sample files; see docs/reliability.md)
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 0
FUZZ_TARGETS ?=
DEB_FUZZ     := clang
fuzz: all
	@sh tools/deps.sh $(DEB_FUZZ)
	@sh tools/fuzz.sh $(BUILD) $(if $(wildcard ../shared/data),../shared/data,$(SAMPLES)) $(FUZZ_SECONDS) $(FUZZ_RUNS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD)/obj $(BIN)

-include $(OBJ:.o=.d)
