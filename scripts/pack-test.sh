#!/usr/bin/env bash
# The package as a user installs it: `npm pack`, then three fresh apps in a temporary folder:
#   client  the tarball + @trpc/client superjson zod (a browser / React Native app's install);
#   server  the tarball + pg ws jose (the engine on PostgreSQL at TEST_DATABASE_URL, the Node server);
#   cli     the tarball + @electric-sql/pglite ws jose prom-client, `npx trpc-offline-sync serve` (PGlite).
# Each app is type-checked with `strict` and `skipLibCheck: false` (no @types/pg, no @types/ws), the
# client pushes a task to each server and a fresh client pulls it, then sizes are printed: each app's
# installed size and package count, and what the package adds to the client-only app (≤ 10 MB, no
# server driver). publint and @arethetypeswrong/cli (profile esm-only) must be clean.
# The last line is the summary: "pack test: ok ..." or "pack test: FAILED (...)".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE="$ROOT/scripts/pack-test"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/trpc-offline-sync-pack.XXXXXX")
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false npm_config_loglevel=error
LIMIT_KB=$((10 * 1024))
FAILURES=()
PIDS=()
fail() { FAILURES+=("$1"); echo "FAIL: $1"; }
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# The versions the repository itself runs with (already in the npm cache).
ver() { node -p "require('$ROOT/node_modules/$1/package.json').version"; }
TRPC=$(ver @trpc/client) SUPERJSON=$(ver superjson) ZOD=$(ver zod) PG=$(ver pg) WS=$(ver ws) JOSE=$(ver jose)
PGLITE=$(ver @electric-sql/pglite) PROM=$(ver prom-client) TYPES_NODE=$(ver @types/node) TYPES_PG=$(ver @types/pg)
TSC="$ROOT/node_modules/.bin/tsc"
TSX="$ROOT/node_modules/.bin/tsx"

kb() { du -sk "$1/node_modules" 2>/dev/null | cut -f1; }
count() { (cd "$1" && npm ls --all --parseable 2>/dev/null | tail -n +2 | sort -u | wc -l | tr -d ' '); }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }

# An app folder: package.json, strict tsconfig without skipLibCheck, its sources; then `npm install`.
app() {
  local dir="$WORK/$1"; shift
  mkdir -p "$dir"
  printf '{ "name": "%s", "private": true, "type": "module" }\n' "pack-test-$(basename "$dir")" >"$dir/package.json"
  (cd "$dir" && npm install --prefer-offline "$@") >"$dir/install.log" 2>&1 || { tail -20 "$dir/install.log"; fail "npm install in $(basename "$dir")"; }
}
tsconfig() { # dir lib types...
  local dir=$1 lib=$2; shift 2
  local types; types=$(printf '"%s",' "$@"); types="[${types%,}]"
  cat >"$dir/tsconfig.json" <<JSON
{ "compilerOptions": { "target": "ES2022", "lib": $lib, "module": "NodeNext", "moduleResolution": "NodeNext",
  "strict": true, "skipLibCheck": false, "noEmit": true, "types": $types }, "include": ["*.ts"] }
JSON
}
typecheck() { (cd "$WORK/$1" && "$TSC" -p . >typecheck.log 2>&1) && echo "$1: typecheck ok (strict, skipLibCheck false)" || { head -30 "$WORK/$1/typecheck.log"; fail "typecheck of the $1 app"; }; }

echo "== npm pack"
(cd "$ROOT" && npm pack --pack-destination "$WORK" >"$WORK/pack.log" 2>&1) || { tail -30 "$WORK/pack.log"; fail "npm pack"; echo "pack test: FAILED (npm pack)"; exit 1; }
TARBALL=$(ls "$WORK"/trpc-offline-sync-*.tgz)
TAR_KB=$(( $(stat -c %s "$TARBALL") / 1024 ))
UNPACKED_KB=$(mkdir -p "$WORK/unpacked" && tar -xzf "$TARBALL" -C "$WORK/unpacked" && du -sk "$WORK/unpacked/package" | cut -f1)
echo "tarball: $(basename "$TARBALL") $TAR_KB kB packed, $(mb "$UNPACKED_KB") unpacked, $(tar -tzf "$TARBALL" | wc -l | tr -d ' ') files"

echo "== publint, @arethetypeswrong/cli --profile esm-only"
(cd "$WORK/unpacked/package" && "$ROOT/node_modules/.bin/publint" --strict >"$WORK/publint.log" 2>&1) && echo "publint: clean" || { cat "$WORK/publint.log"; fail "publint"; }
"$ROOT/node_modules/.bin/attw" --profile esm-only "$TARBALL" >"$WORK/attw.log" 2>&1 && echo "attw (esm-only): clean" || { cat "$WORK/attw.log"; fail "@arethetypeswrong/cli"; }

echo "== installs"
app base "@trpc/client@$TRPC" "superjson@$SUPERJSON" "zod@$ZOD"
app client "$TARBALL" "@trpc/client@$TRPC" "superjson@$SUPERJSON" "zod@$ZOD"
app server "$TARBALL" "pg@$PG" "ws@$WS" "jose@$JOSE" "@trpc/server@$TRPC" "superjson@$SUPERJSON" "zod@$ZOD" "@types/node@$TYPES_NODE" "@types/pg@$TYPES_PG"
app cli "$TARBALL" "@electric-sql/pglite@$PGLITE" "ws@$WS" "jose@$JOSE" "prom-client@$PROM" "@trpc/server@$TRPC" "superjson@$SUPERJSON" "zod@$ZOD" "@types/node@$TYPES_NODE"

BASE_KB=$(kb "$WORK/base") CLIENT_KB=$(kb "$WORK/client") SERVER_KB=$(kb "$WORK/server") CLI_KB=$(kb "$WORK/cli")
ADDED_KB=$((CLIENT_KB - BASE_KB))
for a in base client server cli; do
  k=$(kb "$WORK/$a"); echo "$a app: $(mb "$k") installed, $(count "$WORK/$a") packages"
done
echo "the package adds to a client-only app: $(mb "$ADDED_KB"), $(( $(count "$WORK/client") - $(count "$WORK/base") )) packages (beyond @trpc/client, superjson, zod and theirs; limit 10 MB)"
[ "$ADDED_KB" -le "$LIMIT_KB" ] || fail "the client-only app grows by $(mb "$ADDED_KB") (> 10 MB)"
DRIVERS=""
for d in pg mongodb @electric-sql/pglite ws prom-client better-sqlite3 jose; do [ -e "$WORK/client/node_modules/$d" ] && DRIVERS="$DRIVERS $d"; done
[ -z "$DRIVERS" ] && echo "client app: no server driver installed" || fail "server packages in the client-only app:$DRIVERS"

echo "== type-check"
cp "$HERE/client.ts" "$WORK/client/" && tsconfig "$WORK/client" '["ES2023", "DOM", "ESNext.Disposable"]' && typecheck client
cp "$HERE/server-pg.ts" "$WORK/server/" && tsconfig "$WORK/server" '["ES2023"]' node && typecheck server
cp "$HERE/entries.ts" "$WORK/cli/" && tsconfig "$WORK/cli" '["ES2023", "DOM"]' node && typecheck cli

# Waits for a line matching $2 in file $1 (a server's output); prints the match.
wait_line() {
  for _ in $(seq 1 1200); do
    grep -m1 -oE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

echo "== missing optional peers (the client-only app has none)"
# A server part used without its optional peer names the package and the command that installs it.
OUT=$(cd "$WORK/client" && node -e "import('trpc-offline-sync/postgres').then((m) => m.pgliteStore()).catch((e) => console.log(e.message))" 2>&1)
echo "$OUT" | grep -q 'npm install @electric-sql/pglite' && echo "pgliteStore without PGlite: $OUT" || fail "pgliteStore without PGlite said: $OUT"
OUT=$(cd "$WORK/client" && ./node_modules/.bin/trpc-offline-sync serve 2>&1 </dev/null)
echo "$OUT" | grep -qE '^error: trpc-offline-sync needs the optional peer dependencies [a-z, -]+, not installed: npm install (ws|jose|prom-client)' \
  && echo "trpc-offline-sync serve without its peers: $OUT" || fail "trpc-offline-sync serve without its peers said: $OUT"

echo "== sync"
sync_through() { # name url token
  local id="t-$1-$RANDOM"
  (cd "$WORK/client" && "$TSX" client.ts push "$2" "$3" "$id" && "$TSX" client.ts pull "$2" "$3" "$id") || fail "sync through the $1 server"
}
# The installed bin (what `npx trpc-offline-sync serve` runs), started directly so its pid is the server's.
(cd "$WORK/cli" && PORT=0 SYNC_DATA_DIR="$WORK/cli/data" exec ./node_modules/.bin/trpc-offline-sync serve >"$WORK/cli/serve.log" 2>&1) &
PIDS+=($!)
CLI_URL=$(wait_line "$WORK/cli/serve.log" 'listening on http://[0-9.]+:[0-9]+' | sed 's/listening on //')
CLI_TOKEN=$(grep -m1 -oE 'dev token \([^)]*\): \S+' "$WORK/cli/serve.log" | sed 's/.*: //')
if [ -n "$CLI_URL" ] && [ -n "$CLI_TOKEN" ]; then
  echo "cli: npx trpc-offline-sync serve on PGlite at $CLI_URL"
  sync_through cli "$CLI_URL" "$CLI_TOKEN"
else
  tail -20 "$WORK/cli/serve.log"; fail "npx trpc-offline-sync serve did not start"
fi

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  (cd "$WORK/server" && exec "$TSX" server-pg.ts >"$WORK/server/serve.log" 2>&1) &
  PIDS+=($!)
  LINE=$(wait_line "$WORK/server/serve.log" 'listening http://[0-9.]+:[0-9]+ \S+')
  if [ -n "$LINE" ]; then
    read -r _ PG_URL PG_TOKEN <<<"$LINE"
    echo "server: the engine on PostgreSQL behind createSyncHttpServer at $PG_URL"
    sync_through server "$PG_URL" "$PG_TOKEN"
  else
    tail -20 "$WORK/server/serve.log"; fail "the PostgreSQL server app did not start"
  fi
else
  fail "TEST_DATABASE_URL is not set (the server app runs on PostgreSQL)"
fi

SIZES="client-only app +$(mb "$ADDED_KB") (limit 10 MB), client $(mb "$CLIENT_KB"), server $(mb "$SERVER_KB"), cli $(mb "$CLI_KB"), tarball $TAR_KB kB"
if [ ${#FAILURES[@]} -eq 0 ]; then
  echo "pack test: ok; $SIZES; publint and attw clean; 3 apps type-checked and synced"
else
  echo "pack test: FAILED (${FAILURES[*]}); $SIZES"
  exit 1
fi
