#!/usr/bin/env bash
# services.sh: install (when missing) and run the real services the tests use,
# on free loopback ports in a temporary directory.
#
#   scripts/services.sh install      apt-get the packages that are missing
#   scripts/services.sh start DIR    start Redis and PostgreSQL under DIR and
#                                    write DIR/env (AXES_TEST_* variables)
#   scripts/services.sh stop DIR     stop what start started
set -euo pipefail

need_pkgs() {
	local pkgs=()
	command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
	pg_bin >/dev/null 2>&1 || pkgs+=(postgresql)
	command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
	command -v wrk >/dev/null 2>&1 || pkgs+=(wrk)
	echo "${pkgs[@]:-}"
}

pg_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	return 1
}

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		# A refused connection means nobody listens there.
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}

cmd_install() {
	local pkgs
	pkgs=$(need_pkgs)
	[ -z "$pkgs" ] && return 0
	echo "services: installing $pkgs" >&2
	if [ "$(id -u)" != 0 ]; then
		echo "services: need root to apt-get install $pkgs" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
	# Debian starts a cluster/daemon on install; the tests use their own.
	command -v service >/dev/null 2>&1 && { service redis-server stop >/dev/null 2>&1 || true; service postgresql stop >/dev/null 2>&1 || true; }
	return 0
}

cmd_start() {
	local dir=$1 bin rport pport
	mkdir -p "$dir"
	chmod 777 "$dir"
	rport=$(free_port)
	redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
	bin=$(pg_bin)
	pport=$(free_port)
	# PostgreSQL refuses to run as root: use the postgres user when we are root.
	local run=()
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || useradd -r -M -d "$dir" postgres
		run=(runuser -u postgres --)
	fi
	mkdir -p "$dir/pg"
	[ "$(id -u)" = 0 ] && chown postgres "$dir/pg"
	"${run[@]}" "$bin/initdb" -D "$dir/pg/data" -U postgres -A trust >"$dir/pg-init.log" 2>&1
	"${run[@]}" "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w \
		-o "-p $pport -k $dir/pg -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
	for _ in $(seq 50); do
		redis-cli -p "$rport" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	cat >"$dir/env" <<ENV
export AXES_TEST_REDIS_URL=redis://127.0.0.1:$rport/0
export AXES_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$pport/postgres?sslmode=disable
export AXES_TEST_REDIS_PORT=$rport
export AXES_TEST_POSTGRES_PORT=$pport
export AXES_TEST_SERVICES_DIR=$dir
export AXES_TEST_PG_BIN=$bin
export AXES_TEST_CHROMIUM=$(command -v chromium)
ENV
	echo "services: redis on 127.0.0.1:$rport, postgres on 127.0.0.1:$pport" >&2
}

cmd_stop() {
	local dir=$1 bin
	if [ -f "$dir/redis.pid" ]; then
		kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
	fi
	if bin=$(pg_bin) && [ -d "$dir/pg/data" ]; then
		if [ "$(id -u)" = 0 ]; then
			runuser -u postgres -- "$bin/pg_ctl" -D "$dir/pg/data" -m immediate stop >/dev/null 2>&1 || true
		else
			"$bin/pg_ctl" -D "$dir/pg/data" -m immediate stop >/dev/null 2>&1 || true
		fi
	fi
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
*) echo "usage: $0 install | start DIR | stop DIR" >&2; exit 2 ;;
esac
