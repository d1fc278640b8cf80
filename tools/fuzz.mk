# Fuzz targets (clang's libFuzzer with address and undefined-behaviour
# sanitizers): the C layers below the binding are compiled once into
# $(FZ)/obj, each tests/fuzz/fuzz_<name>.c links against them.
# Used by tools/fuzz.sh (make fuzz); make -f tools/fuzz.mk builds them all.
FZ       ?= build/fuzz
FCC      ?= clang
FPKGS    := zlib libdeflate charls libopenjp2 libpng libjpeg lua5.4
FCFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Wno-unknown-pragmas \
            $(shell pkg-config --cflags $(FPKGS))
FSAN     := -fsanitize=address,undefined
FLIBS    := $(shell pkg-config --libs $(FPKGS)) -lm
FSRC     := $(wildcard src/core/*.c src/io/*.c src/kernels/*.c)
FOBJ     := $(FSRC:%.c=$(FZ)/obj/%.o)
TARGETS  := $(patsubst tests/fuzz/fuzz_%.c,$(FZ)/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))

all: $(TARGETS)

.SECONDARY: $(FOBJ)

$(FZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FCC) $(FCFLAGS) $(FSAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FOBJ)
	$(FCC) $(FCFLAGS) $(FSAN) -fsanitize=fuzzer $< $(FOBJ) -o $@ $(FLIBS)

-include $(FOBJ:.o=.d)
