# The two set-up commands of the README:
#   go run ./examples/server     run the server on its embedded memory stores
#   make test                    run the whole test suite
#
# Integration tests take their servers from RENDEZVOUS_TEST_REDIS_URL and
# RENDEZVOUS_TEST_DATABASE_URL. When one is unset and `docker info`
# succeeds, `make unit` starts it in a container with the testservers
# command (the nested module ./testservers, on testcontainers-go) for the
# length of the run; otherwise the tests that need it skip.
# RENDEZVOUS_REQUIRE_INTEGRATION=1 turns every such skip into a failure
# (.ci/run sets it).

GO        ?= go
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# report "context deadline exceeded" at the deadline on a loaded machine
# although nothing failed (golang/go#75804, fixed in Go 1.27).
FUZZTIME  ?= 10000x
# Fuzz targets run briefly on every test run: package:target.
FUZZ_TARGETS := \
	./transport/socketio:FuzzDecodeEnginePacket \
	./transport/socketio:FuzzDecodePayload \
	./transport/socketio:FuzzDecodeSocketPacket \
	./transport:FuzzRoomsREST \
	./transport:FuzzCheckStrict \
	./session/agora:FuzzParse \
	./matchmaking:FuzzQueueKey

# The Stripe API fake the billing tests run against (internal/testenv finds
# it in ./bin); keep in step with testenv.StripeMockVersion.
STRIPE_MOCK_VERSION := v0.203.0

# The nested module of the test-server command, and where it is built.
TESTSERVERS_DIR := testservers
TESTSERVERS     := $(CURDIR)/bin/testservers

.PHONY: test deps e2e-deps stripe-mock build unit fuzz vet bench bench-load testservers apicheck

test: deps vet build unit fuzz apicheck

deps: e2e-deps stripe-mock

stripe-mock:
	@test -x bin/stripe-mock || GOBIN=$(CURDIR)/bin $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

# The official socket.io-client, pinned by e2e/package-lock.json.
e2e-deps:
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix e2e --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the socket.io-client end-to-end tests will skip"; fi

# Both modules: the root one and the nested test-server command.
vet:
	$(GO) vet ./...
	cd $(TESTSERVERS_DIR) && $(GO) vet ./...

# Every package and program of the root module (examples/embed included)
# and the test-server command compile.
build:
	$(GO) build ./...
	cd $(TESTSERVERS_DIR) && $(GO) build ./...

testservers:
	cd $(TESTSERVERS_DIR) && $(GO) build -o $(TESTSERVERS) .

# The root module's tests, with the missing integration servers started in
# containers when a Docker engine answers; then the test-server command's
# own tests, which need no Docker.
unit:
	@set -e; with=""; \
	if [ -z "$$RENDEZVOUS_TEST_REDIS_URL" ] || [ -z "$$RENDEZVOUS_TEST_DATABASE_URL" ]; then \
		if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then \
			echo "starting the missing integration servers in Docker ($(TESTSERVERS_DIR)/)"; \
			(cd $(TESTSERVERS_DIR) && $(GO) build -o $(TESTSERVERS) .); with="$(TESTSERVERS)"; \
		else \
			echo "no Docker engine: integration tests without RENDEZVOUS_TEST_REDIS_URL / RENDEZVOUS_TEST_DATABASE_URL skip"; \
		fi; \
	fi; \
	$$with $(GO) test -race -count=1 -timeout 8m ./...
	cd $(TESTSERVERS_DIR) && $(GO) test -race -count=1 ./...

# The nested module ./api/check validates api/openapi.json with libopenapi
# and api/asyncapi.json against the official AsyncAPI JSON Schema (the npm
# package @asyncapi/specs, pinned by api/check/package-lock.json):
# dependencies the root module's consumers never download.
apicheck:
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix api/check --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the AsyncAPI schema validation will skip"; fi
	cd api/check && $(GO) vet ./... && $(GO) test -count=1 ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

# The Go benchmarks of every package (those needing Redis or PostgreSQL
# skip without RENDEZVOUS_TEST_REDIS_URL / RENDEZVOUS_TEST_DATABASE_URL).
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# The load figures of BENCHMARKS.md against examples/server (cmd/rvload,
# cmd/rvhello and wrk): BENCH_STORES=memory|redis|all, default all.
BENCH_STORES ?= all
bench-load:
	scripts/bench.sh $(BENCH_STORES)
