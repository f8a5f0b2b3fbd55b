# Lexar - FastCGI backend. See README.md.
#
#   make            build build/lexar.fcgi
#   make run        install what is missing, build, start PostgreSQL,
#                   migrate, start the workers and nginx on PORT (8080)
#   make stop       stop everything `make run` started
#   make test       the same stack in a throwaway directory, then every test
#   make bench      throughput and latency with wrk
#   make fuzz       run the libFuzzer targets (FUZZ_SECONDS each)

ifeq ($(origin CC),default)
CC	 = gcc
endif
PKGS	 = fcgi libpq libcurl json-c libjwt libargon2 yaml-0.1 libcrypto
BUILD	?= build

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	 = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-missing-field-initializers
OPT	?= -O2 -g
CFLAGS	+= $(OPT) -std=c17 -D_GNU_SOURCE -pthread -Ilib $(WARN) $(PKG_CFLAGS) \
	   -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
LDFLAGS	+= -pthread -pie -Wl,-z,relro,-z,now
LDLIBS	+= $(PKG_LIBS) -lm

ifeq ($(SAN),1)
BUILD	 = build-asan
OPT	 = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined -DLEXAR_POISON
LDFLAGS	+= -fsanitize=address,undefined
endif

LIB_SRC	 = $(wildcard lib/*.c)
FCGI_SRC = $(wildcard fcgi/*.c)
LIB_OBJ	 = $(LIB_SRC:%.c=$(BUILD)/%.o)
FCGI_OBJ = $(FCGI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(wildcard tests/unit/*.c)

all: $(BUILD)/lexar.fcgi

$(BUILD)/%.o: %.c $(wildcard lib/*.h fcgi/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ifcgi -c -o $@ $<

$(BUILD)/liblexar.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/lexar.fcgi: $(FCGI_OBJ) $(BUILD)/liblexar.a
	$(CC) $(LDFLAGS) -o $@ $(FCGI_OBJ) $(BUILD)/liblexar.a $(LDLIBS)

$(BUILD)/unit-tests: $(UNIT_SRC) $(BUILD)/liblexar.a $(wildcard tests/unit/*.h)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $(UNIT_SRC) \
	    $(BUILD)/liblexar.a $(LDLIBS)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

deps:
	@scripts/install-deps

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run

stop:
	@scripts/stop

test: deps
	@tests/run

bench: deps
	@tests/bench/run

fuzz: deps
	@tests/fuzz/run $${FUZZ_SECONDS:-60}

migrate: all
	@scripts/migrate

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all unit deps run stop test bench fuzz migrate clean

# Regenerate the configuration table in README.md from the key table.
readme-config: $(BUILD)/lexar.fcgi
	@$(BUILD)/lexar.fcgi config keys > $(BUILD)/keys.md
	@awk 'BEGIN{t=0} /<!-- config-keys:begin -->/{print; while((getline l < "$(BUILD)/keys.md")>0) print l; t=1; next} /<!-- config-keys:end -->/{t=0} !t' README.md > $(BUILD)/README.new
	@mv $(BUILD)/README.new README.md
	@echo "README.md: configuration table updated"

.PHONY: readme-config
