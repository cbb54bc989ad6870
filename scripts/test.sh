#!/usr/bin/env bash
# test.sh: what `make test` runs. Installs the services the tests need when
# they are missing (apt-get, as root), starts them on free loopback ports,
# runs the checks and every test with the race detector, and stops them.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh install
dir=$(mktemp -d /tmp/axes-test.XXXXXX)
trap 'scripts/services.sh stop "$dir"; rm -rf "$dir"' EXIT
scripts/services.sh start "$dir"
# shellcheck disable=SC1091
source "$dir/env"
# Under make test a missing service fails the run instead of skipping.
export AXES_REQUIRE_SERVICES=1

echo "== gofmt"
bad=$(gofmt -l .)
if [ -n "$bad" ]; then
	echo "gofmt would change: $bad" >&2
	exit 1
fi
echo "== go.mod tidy"
go mod tidy -diff
echo "== go vet"
go vet ./...
echo "== core imports no framework, driver or metrics library"
if go list -deps ./core | grep -E 'gin-gonic|labstack|gofiber|valyala|jackc|go-redis|sqlite|chromedp|prometheus'; then
	echo "core must not import the packages above" >&2
	exit 1
fi
echo "== go test -race"
go test -race -count=1 -shuffle=on -timeout 20m ./...
if [ -f bench/go.mod ]; then
	echo "== bench module: vet and one pass of each benchmark's tests"
	(cd bench && go vet ./... && go test -count=1 -timeout 10m ./...)
fi
