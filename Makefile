# The two set-up commands of the README:
#   go run ./examples/server     run the server on its embedded memory stores
#   make test                    run the whole test suite
#
# Integration tests take their servers from RENDEZVOUS_TEST_REDIS_URL and
# RENDEZVOUS_TEST_DATABASE_URL, else from testcontainers when a Docker engine
# answers, else they skip; RENDEZVOUS_REQUIRE_INTEGRATION=1 turns every such
# skip into a failure (.ci/run sets it).

GO        ?= go
FUZZTIME  ?= 5s
# Fuzz targets run briefly on every test run: package:target.
FUZZ_TARGETS := \
	./transport/socketio:FuzzDecodeEnginePacket \
	./transport/socketio:FuzzDecodePayload \
	./transport/socketio:FuzzDecodeSocketPacket \
	./transport:FuzzRoomsREST

# The Stripe API fake the billing tests run against (internal/testenv finds
# it in ./bin); keep in step with testenv.StripeMockVersion.
STRIPE_MOCK_VERSION := v0.203.0

.PHONY: test deps e2e-deps stripe-mock unit fuzz vet bench

test: deps vet unit fuzz

deps: e2e-deps stripe-mock

stripe-mock:
	@test -x bin/stripe-mock || GOBIN=$(CURDIR)/bin $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

# The official socket.io-client, pinned by e2e/package-lock.json.
e2e-deps:
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix e2e --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the socket.io-client end-to-end tests will skip"; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 8m ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

# Benchmarks; see BENCHMARKS.md for the load tool.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...
