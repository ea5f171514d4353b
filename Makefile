# fleetslope nomad-gpu-autoscaler: plugins for the official Nomad Autoscaler agent v0.5.0.
#
#   make demo   the whole loop on this machine: agent + plugins + RabbitMQ + PostgreSQL + simulated GCE/Nomad
#   make test   every test (unit, component, contract, integration, end to end); brings up the services
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

MODULE   := github.com/fleetslope/nomad-gpu-autoscaler
# A release tag v1.2.3 gives 1.2.3; before the first tag, the in-code version plus the commit
# (the same rule as scripts/dist.sh).
VERSION  ?= $(shell v=$$(git describe --tags --match 'v*' --dirty 2>/dev/null) && echo $${v\#v} || \
              echo "$$(sed -n 's/^var Version = "\(.*\)"$$/\1/p' internal/version/version.go)+$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
LDFLAGS  := -s -w -X $(MODULE)/internal/version.Version=$(VERSION)
PLUGINS  := apm-rabbitmq strategy-slope target-gce-gpu
BIN      := bin
AGENT    := $(BIN)/nomad-autoscaler
STATICCHECK_VERSION := v0.8.2
SERVICES_ENV = eval "$$(scripts/services.sh env)"
# -count=1: the end-to-end, demo and contract tests build and run the plugin
# binaries themselves, which go test's result cache cannot see, so a cached
# pass could hide a change to a plugin.
GOTEST_FLAGS ?= -race -count=1 -timeout 14m

.PHONY: all build agent test unit e2e demo dist lint bench validate services-up services-down clean readme-check readme-check-all soak soak-services-up soak-services-down

all: build

## build: the three plugin binaries in bin/plugins/
build:
	@mkdir -p $(BIN)/plugins
	@for p in $(PLUGINS); do \
		go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plugins/$$p ./plugins/$$p; \
	done
	@echo "built: $(addprefix $(BIN)/plugins/,$(PLUGINS))"

## agent: the official nomad-autoscaler v0.5.0 agent, from the pinned module in tools/agent
agent: $(AGENT)
$(AGENT): tools/agent/go.mod tools/agent/go.sum
	@mkdir -p $(BIN)
	cd tools/agent && go build -o ../../$(AGENT) github.com/hashicorp/nomad-autoscaler
	@echo "built: $(AGENT)"

services-up:
	scripts/services.sh up

services-down:
	scripts/services.sh down

## test: the one test command: services up, then every test package with the race detector
test: build agent services-up
	@echo "--- smoke: the official agent launches and configures our three plugins"
	$(SERVICES_ENV); go test -count=1 -v -run '^TestAgent(LaunchesAndConfiguresAllThreePlugins|RefusesAMisspelledPluginKey)$$' ./test/e2e/ | grep -E '^(=== RUN|--- |ok|FAIL)|agent: '
	$(SERVICES_ENV); go test $(GOTEST_FLAGS) ./...
	@echo "--- readme-check: the READMEs' figures against the commands that produce them"
	go run ./cmd/readmecheck

## readme-check: rerun the commands behind the READMEs' figures (those under a minute) and fail on a 1% difference
readme-check:
	go run ./cmd/readmecheck

## readme-check-all: the same with the slow ones (make validate's tables)
readme-check-all:
	go run ./cmd/readmecheck -all

## unit: the tests that need no services (integration tests skip outside CI)
unit:
	go test -race ./...

## e2e: only the end-to-end scenarios (also part of make test)
e2e: build agent services-up
	$(SERVICES_ENV); go test $(GOTEST_FLAGS) -count=1 -v ./test/e2e/...

## demo: replay a compressed day of real traffic through the whole system
demo: build agent services-up
	$(SERVICES_ENV); go run ./cmd/demo $(DEMO_FLAGS)

## soak: three simulated days at 60M requests/day (about 1,400 GPU nodes at peak) with faults on a schedule,
## against a three-node RabbitMQ cluster and a PostgreSQL of its own; run/soak/soak.json and soak.png (about 20 min)
soak: build agent soak-services-up
	eval "$$(scripts/soak-services.sh env)"; SOAK_FULL=1 go test -count=1 -v -run '^TestSoak$$' -timeout 30m ./test/soak/

soak-services-up:
	scripts/soak-services.sh up

soak-services-down:
	scripts/soak-services.sh down

## dist: versioned linux/amd64 and linux/arm64 archives of the plugins with SHA256SUMS
dist:
	VERSION=$(VERSION) scripts/dist.sh

## lint: gofmt, go vet and staticcheck (pinned, from the module proxy)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## bench: the benchmarks whose figures are in the READMEs (needs the services for the APM ones)
bench: services-up
	$(SERVICES_ENV); go test -run '^$$' -bench . -benchmem ./...

## validate: the policy against its goals on the validation matrix (no services); table in run/validate/validate.md
validate:
	go run ./cmd/validate -out run/validate $(VALIDATE_FLAGS)

clean:
	rm -rf $(BIN) dist
