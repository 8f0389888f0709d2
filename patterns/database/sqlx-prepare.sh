#!/usr/bin/env bash
# Regenerates sqlx's offline data (.sqlx/) from a freshly migrated SQLite database, or,
# with --check, fails if the committed data differs from what the current schema and
# queries give (CI runs that). No sqlx-cli needed: the query macros write the data
# themselves when SQLX_OFFLINE_DIR is set and they see a live DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The schema, from the migration files (Python's sqlite3 module: no sqlite3 CLI needed).
python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for migration in sorted(sys.argv[2:]):
    db.executescript(open(migration).read())
db.commit()' "$scratch/prepare.db" migrations/sqlite/*.sql
mkdir -p "$scratch/sqlx"
touch src/lib.rs # re-expand the macros, whatever cargo cached
SQLX_OFFLINE=false DATABASE_URL="sqlite:$scratch/prepare.db" SQLX_OFFLINE_DIR="$scratch/sqlx" \
  cargo check -q -p database --lib
if [ "${1:-}" = "--check" ]; then
  if ! diff -r "$scratch/sqlx" .sqlx; then
    echo "patterns/database/.sqlx is stale: run patterns/database/sqlx-prepare.sh and commit it" >&2
    exit 1
  fi
  echo "sqlx offline data is current"
else
  rm -rf .sqlx
  cp -r "$scratch/sqlx" .sqlx
  echo "wrote patterns/database/.sqlx ($(ls .sqlx | wc -l) queries)"
fi
