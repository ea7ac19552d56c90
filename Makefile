# Defter build. `make run` and `make test` do all set-up on a fresh Debian machine.
#
#   make deps      install missing Debian packages (and npm packages for the web UI)
#   make build     optimised release build -> build/defter (no sanitizers; bench figures use it)
#   make test      sanitized (ASan+UBSan) unit and command-line tests, then a short fuzz run
#   make valgrind  a subset of the tests on an unsanitized build under valgrind
#   make fuzz      longer libFuzzer runs (FUZZ_SECONDS per harness)
#   make bench     the bench/ programs against their peers, on the release build
#   make run       demo vault and the local web UI
#   make format    clang-format every C file
#   make soak      `defter serve` under a steady sync load for SOAK_SECONDS (1800): RSS growth

SHELL := /bin/bash
V ?= release
CC := cc
ifeq ($(V),fuzz)
CC := clang
endif

PKGS := libsodium libcrypto sqlite3 jansson libutf8proc icu-uc icu-i18n libmicrohttpd libcurl libexif libzip zlib libqrencode libpq
# libgfshare (m-of-n recovery shares) has no .pc file
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmagic -lcsv -lgfshare -lpthread -lm

WARN := -std=c11 -Wall -Wextra -Wformat=2 -Wshadow -Wconversion -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wimplicit-fallthrough -Wcast-qual -Wwrite-strings -Wundef -Werror
BASE := -D_GNU_SOURCE -Iinclude -Isrc $(WARN)

ifeq ($(V),release)
MODE_CFLAGS := -O2 -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE -fvisibility=hidden
MODE_LDFLAGS := -pie -Wl,-z,relro,-z,now,-z,noexecstack
else ifeq ($(V),asan)
MODE_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
MODE_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(V),vg)
MODE_CFLAGS := -O1 -g -fno-omit-frame-pointer
MODE_LDFLAGS :=
else ifeq ($(V),fuzz)
MODE_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -DDFT_FUZZING
MODE_LDFLAGS := -fsanitize=fuzzer,address,undefined
endif

OUT := build/$(V)
ifeq ($(V),release)
OUT := build/release
endif

LIB_SRC := $(sort $(shell find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/verify/*'))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(shell find tests -name 'test_*.c'))
FUZZ_SRC := $(sort $(wildcard fuzz/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(OUT)/obj/%.o)
# web UI assets, embedded into the library by a generated C file (served by `defter ui`)
WEB_SRC := $(sort $(shell find web -type f -not -path 'web/node_modules/*' 2>/dev/null))
LIB_OBJ += $(OUT)/obj/gen/web_assets.o
# the BIP-39 English word list (data/), embedded for recovery shares
LIB_OBJ += $(OUT)/obj/gen/bip39_words.o
CLI_OBJ := $(CLI_SRC:%.c=$(OUT)/obj/%.o)
LIB := $(OUT)/libdefter.a
BIN := $(OUT)/defter
TEST_BIN := $(TEST_SRC:tests/%.c=$(OUT)/tests/%)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(OUT)/fuzz/%)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(OUT)/bench/%)

CFLAGS_ALL = $(BASE) $(MODE_CFLAGS) $(PKG_CFLAGS)

# defter-verify: the offline bundle verifier, linked without the vault, SQLite or the server
VERIFY_SRC := $(sort $(wildcard src/verify/*.c))
VERIFY_OBJ := $(VERIFY_SRC:%.c=$(OUT)/obj/%.o)
VERIFY_BIN := $(OUT)/defter-verify
VERIFY_LIBS = $(shell pkg-config --libs libsodium libcrypto jansson zlib 2>/dev/null) -lpthread
# defter-verify.html: the same verifier in one self-contained page (scripts inlined at build time)
VERIFY_HTML := $(OUT)/defter-verify.html
VERIFY_WEB_SRC := $(sort $(wildcard verify-web/*))

.PHONY: all build deps test valgrind fuzz fuzz-build bench run format clean variant-all \
	variant-tests variant-fuzz variant-bench ui-deps install uninstall soak
.DEFAULT_GOAL := build

all: build

deps:
	@sh scripts/deps.sh

build: deps
	@$(MAKE) --no-print-directory V=release variant-all
	@cp build/release/defter build/defter
	@cp build/release/defter-verify build/defter-verify
	@cp build/release/defter-verify.html build/defter-verify.html

variant-all: $(BIN) $(VERIFY_BIN) $(VERIFY_HTML)
variant-tests: $(BIN) $(VERIFY_BIN) $(VERIFY_HTML) $(TEST_BIN)
variant-fuzz: $(FUZZ_BIN)
variant-bench: $(BIN) $(BENCH_BIN)

$(OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(OUT)/gen/web_assets.c: $(WEB_SRC) scripts/embed-web.py
	@python3 scripts/embed-web.py web $@

$(OUT)/gen/bip39_words.c: data/bip39-english.txt
	@mkdir -p $(dir $@)
	@{ echo '/* generated from data/bip39-english.txt */'; \
	  echo 'const char *const words_bip39[2048] = {'; \
	  sed 's/.*/    "&",/' $<; echo '};'; } >$@

$(OUT)/obj/gen/%.o: $(OUT)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	@ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	@echo "  LD  $@"
	@$(CC) $(MODE_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(PKG_LIBS)

$(VERIFY_BIN): $(VERIFY_OBJ) $(LIB)
	@echo "  LD  $@"
	@$(CC) $(MODE_LDFLAGS) -o $@ $(VERIFY_OBJ) $(LIB) $(VERIFY_LIBS)

$(VERIFY_HTML): $(VERIFY_WEB_SRC) scripts/build-verify-html.py
	@mkdir -p $(dir $@)
	@echo "  GEN $@"
	@python3 scripts/build-verify-html.py verify-web $@

$(OUT)/tests/%: tests/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(CFLAGS_ALL) -Itests $< -o $@ $(LIB) $(MODE_LDFLAGS) $(PKG_LIBS) -lcmocka

$(OUT)/fuzz/%: fuzz/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(CFLAGS_ALL) $< -o $@ $(LIB) $(MODE_LDFLAGS) $(PKG_LIBS)

$(OUT)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(CFLAGS_ALL) $< -o $@ $(LIB) $(MODE_LDFLAGS) $(PKG_LIBS)

test: deps
	@$(MAKE) --no-print-directory V=asan variant-tests
	@$(MAKE) --no-print-directory V=fuzz variant-fuzz
	@bash tests/run-all.sh

valgrind: deps
	@$(MAKE) --no-print-directory V=vg variant-tests
	@bash tests/run-valgrind.sh

fuzz: deps
	@$(MAKE) --no-print-directory V=fuzz variant-fuzz
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-60} bash tests/run-fuzz.sh

bench: build
	@$(MAKE) --no-print-directory V=release variant-bench
	@bash bench/run.sh

# not part of `make test`: 30 minutes of 10 clients pushing steadily, RSS sampled each minute
soak: build
	@$(MAKE) --no-print-directory V=release build/release/bench/sync_load
	@SYNC_LOAD_SOAK=1 SYNC_LOAD_SECONDS=$${SOAK_SECONDS:-1800} SYNC_LOAD_CLIENTS=10 \
		SYNC_LOAD_PUSHES=200 SYNC_LOAD_PAUSE_MS=20 build/release/bench/sync_load build/release/defter

run: build
	@bash scripts/run-demo.sh

format:
	clang-format -i $$(find src include tests fuzz bench -name '*.[ch]')

clean:
	rm -rf build

# install: defter on the PATH, its man page (from the same text as --help) and bash completion.
#   make install [PREFIX=/usr/local] [DESTDIR=staging]
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

$(OUT)/defter.1: $(BIN)
	@$(BIN) --man >$@

install: $(BIN) $(OUT)/defter.1
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(BASHCOMPDIR)"
	install -m 0755 $(BIN) "$(DESTDIR)$(BINDIR)/defter"
	install -m 0644 $(OUT)/defter.1 "$(DESTDIR)$(MANDIR)/man1/defter.1"
	install -m 0644 completion/defter.bash "$(DESTDIR)$(BASHCOMPDIR)/defter"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/defter" "$(DESTDIR)$(MANDIR)/man1/defter.1" \
		"$(DESTDIR)$(BASHCOMPDIR)/defter"

-include $(shell find build -name '*.d' 2>/dev/null)
