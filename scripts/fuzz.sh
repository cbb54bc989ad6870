#!/usr/bin/env bash
# fuzz.sh [TIME]: run every fuzz target of the module for TIME each
# (default 20s). Crashers land in testdata/fuzz and then run in every go test.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-20s}
for pkg in $(go list ./...); do
	for name in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "== $pkg $name ($t)"
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$pkg"
	done
done
