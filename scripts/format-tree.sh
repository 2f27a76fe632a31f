#!/usr/bin/env bash
# Applies the formatter to the whole tree as one mechanical change, then checks that nothing else
# moved: eslint (an `eslint-disable-next-line` left on the wrong line is an error) and tsc (an
# `@ts-expect-error` left on the wrong line is an error). Commit the result on its own, e.g.
#   git commit -am "Format the tree with prettier (npm run format); no other change"
# and list that commit in .git-blame-ignore-revs so `git blame` skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git diff --quiet || ! git diff --cached --quiet; then
  echo "format-tree: commit or stash your changes first (the formatting commit holds nothing else)"
  exit 1
fi
# Twice: on a few long member chains prettier's first pass is not its last (its own output,
# formatted again, breaks differently), and the check in npm test wants a stable result.
npx prettier --write --log-level warn .
npx prettier --write --log-level warn .
npx prettier --check --log-level warn .
echo "format-tree: $(git diff --shortstat)"
npx eslint .
npx tsc --noEmit -p .
echo "format-tree: formatted, eslint and tsc clean; review with git diff --stat, then commit"
