# PGXS build of the pgsession extension, plus convenience targets.
#
#   make                 build the extension (warnings are errors)
#   sudo make install    install it into the PostgreSQL found by pg_config
#   make test            run every test suite on clusters of its own (see test/run-all.sh);
#                        as root it first installs what it needs (packages, the extension)
#   make installcheck    the pgTAP suite against the running server in PGHOST/PGPORT
#   make prove_installcheck  the Perl TAP tests (test/t), on clusters they make themselves
#   make demo            set up a local cluster with the worker preloaded and run a short demo
#   make format          clang-format every C++ source in place

EXTENSION = pgsession
EXTVERSION = $(shell grep default_version $(EXTENSION).control | sed -e "s/default_version[[:space:]]*=[[:space:]]*'\([^']*\)'/\1/")
MODULE_big = pgsession
OBJS = $(patsubst %.cpp,%.o,$(wildcard extension/src/*.cpp))
DATA = $(wildcard sql/$(EXTENSION)--*.sql)

PG_CONFIG ?= pg_config

# Debian's PGXS compiles C++ with g++ and then again to LLVM bitcode with clang; both
# need C++17, and PostgreSQL 15's headers still use `register`.
PG_CPPFLAGS = -Iextension/include
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-register -Wno-unused-parameter \
	-Wno-missing-field-initializers -fno-omit-frame-pointer
SHLIB_LINK += -lstdc++ -lcrypto

# installcheck is ours (below): the tests are pgTAP files under pg_prove, not pg_regress.
NO_INSTALLCHECK = 1

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

BITCODE_CXXFLAGS += -std=c++17 -Wno-register

# The objects depend on the headers; PGXS does not track that for us.
$(OBJS): $(wildcard extension/include/pgsession/*.hpp)

.PHONY: test installcheck prove_installcheck demo format check-format

test:
	bash test/run-all.sh

installcheck:
	bash test/installcheck.sh

# The Perl TAP tests start their own clusters from the installed binaries (as root, as
# the postgres OS user), as PGXS's prove_installcheck does.
prove_installcheck:
	PGSESSION_SUITES=cluster bash test/run-all.sh

demo:
	bash scripts/demo.sh

# The tracked C++ sources (not build directories' generated files).
CXX_SOURCES = $(shell git ls-files '*.cpp' '*.hpp')

format:
	clang-format -i $(CXX_SOURCES)

check-format:
	clang-format --dry-run -Werror $(CXX_SOURCES)

# Benchmarks (bench/README.md): every figure a ratio against its baseline, measured in
# the same run on a cluster of their own.  bench-quick: a small load, a few minutes.
# bench-node: the Node.js figures alone (an Express app, express-session stores).
.PHONY: bench bench-quick bench-node bench-node-quick
bench:
	bash bench/run.sh full
	bash bench/node/run.sh full
bench-quick:
	bash bench/run.sh quick
	bash bench/node/run.sh quick
bench-node:
	bash bench/node/run.sh full
bench-node-quick:
	bash bench/node/run.sh quick
