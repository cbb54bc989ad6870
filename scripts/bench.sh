#!/usr/bin/env bash
# bench.sh: what `make bench` runs. Starts its own Redis and PostgreSQL
# (scripts/services.sh, with pg_stat_statements loaded), runs the bench
# module's benchmarks (ours and the peers' on the same workloads), floods
# the nethttp example app with wrk, and prints one comparison table. About
# 10 minutes on 2 cores.
#
#   BENCH_OUT=DIR   keep raw.txt, table.md and the profiles there
#                   (default: /tmp/axes-bench-last, emptied first)
#   BENCH_QUICK=1   shorter runs, for trying the script
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/services.sh install
dir=$(mktemp -d /tmp/axes-bench.XXXXXX)
out=${BENCH_OUT:-/tmp/axes-bench-last}
[ -n "${BENCH_OUT:-}" ] || rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
cleanup() {
	"$root/scripts/services.sh" stop "$dir" || true
	rm -rf "$dir"
}
trap cleanup EXIT
scripts/services.sh start "$dir"
# shellcheck disable=SC1091
source "$dir/env"
work=$dir/work
mkdir -p "$work"

# Load pg_stat_statements, so that the statements per decision are counted
# by the server too, and restart with the same options.
"$AXES_TEST_PG_BIN/psql" -q "$AXES_TEST_POSTGRES_URL" -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
pgrun=()
[ "$(id -u)" = 0 ] && pgrun=(runuser -u postgres --)
"${pgrun[@]}" "$AXES_TEST_PG_BIN/pg_ctl" -D "$AXES_TEST_SERVICES_DIR/pg/data" -w restart >/dev/null

command -v benchstat >/dev/null 2>&1 || PATH=$PATH:$(go env GOPATH)/bin
command -v benchstat >/dev/null 2>&1 || go install golang.org/x/perf/cmd/benchstat@latest

# The engine files carry a work-in-progress build tag until core lands;
# the tag is harmless afterwards.
tags=(-tags axeswip)
quick=${BENCH_QUICK:-}
t() { if [ -n "$quick" ]; then echo "$2"; else echo "$1"; fi; }

raw=$out/raw.txt
: >"$raw"
cd bench
echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3)" | tee -a "$raw"
run() { # pattern benchtime [extra go test flags]
	local pat=$1 bt=$2
	shift 2
	echo "== go test -bench '$pat' -benchtime $bt" >&2
	go test "${tags[@]}" -run '^$' -bench "$pat" -benchtime "$bt" -benchmem -count 1 -timeout 30m "$@" . | tee -a "$raw" | grep -E '^Benchmark' >&2 || true
}
run '^BenchmarkDecision$' "$(t 400ms 50ms)"
run '^BenchmarkRefused$' "$(t 400ms 50ms)"
run '^BenchmarkCounter$' "$(t 400ms 50ms)"
run '^BenchmarkNewKey$' "$(t 1000000x 100000x)"
run '^BenchmarkMiddleware$' "$(t 300ms 50ms)"
run '^BenchmarkStores$' "$(t 3000x 300x)"
run '^BenchmarkMemoryPerKey$' 1x
run '^BenchmarkSpray$' 1x

# Profiles of our hot paths, for the misses the table reports.
go test "${tags[@]}" -run '^$' -bench 'BenchmarkDecision/keys=1k/axes-memory/(check|fail)/serial' -benchtime "$(t 1s 100ms)" \
	-cpuprofile "$out/decision.cpu" -memprofile "$out/decision.mem" -o "$out/bench.test" . >/dev/null

echo "== wrk flood against examples/nethttp" >&2
(cd "$root" && go build "${tags[@]}" -o "$work/nethttp" ./examples/nethttp)
go build -o "$work/bare" ./cmd/bare
go build "${tags[@]}" -o "$work/flood" ./cmd/flood
"$work/flood" -example "$work/nethttp" -bare "$work/bare" -dir "$work" -duration "$(t 10s 2s)" | tee -a "$raw" >&2

echo
echo "== benchstat"
benchstat "$raw" >"$out/benchstat.txt" 2>&1 || true
echo "(full benchstat output in $out/benchstat.txt)"
echo
go run ./cmd/benchtable <"$raw" | tee "$out/table.md"
echo
echo "raw results, table and profiles: $out"
