# Shortcuts for the catalogue. `just` is optional: each recipe is a plain command.

set shell := ["bash", "-euo", "pipefail", "-c"]

pg_data := "target/postgres/data"
pg_port := "54329"

# List the recipes.
default:
    @just --list

# Run a pattern's demo: `just run basics -- --help`.
run pattern *args:
    cargo run -p {{pattern}} -- {{args}}

# Every test, as CI runs them.
test:
    cargo test --workspace

# Formatting and clippy, as CI checks them.
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# Everything CI does.
ci:
    bash .ci/run

# The virtual environment the Python references and benchmarks use.
venv:
    python3 -m venv .venv
    .venv/bin/pip install -r tests/requirements.txt

# A Python reference against a running fixture server: `just python resources`.
python pattern script=pattern:
    .venv/bin/python patterns/{{pattern}}/python/{{script}}.py

mdbook_version := `sed -n 's/^pub const VERSION: &str = "\(.*\)";/\1/p' crates/external/src/mdbook.rs`
i18n_version := `sed -n 's/^pub const I18N_HELPERS_VERSION: &str = "\(.*\)";/\1/p' crates/external/src/mdbook.rs`
ja_title := `sed -n 's/^pub const JAPANESE_TITLE: &str = "\(.*\)";/\1/p' crates/external/src/mdbook.rs`

# The pinned mdBook and mdbook-i18n-helpers (installed the first time).
book-tools:
    mdbook --version | grep -qx "mdbook v{{mdbook_version}}" || cargo install --locked mdbook --version {{mdbook_version}}
    cargo install --list | grep -qx "mdbook-i18n-helpers v{{i18n_version}}:" || cargo install --locked mdbook-i18n-helpers --version {{i18n_version}}

# Build the book into docs/book, and its Japanese edition into docs/book/ja.
book: book-tools
    mdbook build docs
    MDBOOK_BOOK__LANGUAGE=ja MDBOOK_BOOK__TITLE="{{ja_title}}" mdbook build docs --dest-dir docs/book/ja

# Serve the book with live reload.
book-serve: book-tools
    mdbook serve docs

# Serve the Japanese edition with live reload (it follows docs/po/ja.po too).
book-serve-ja: book-tools
    MDBOOK_BOOK__LANGUAGE=ja MDBOOK_BOOK__TITLE="{{ja_title}}" mdbook serve docs --dest-dir docs/book/ja

# After an English change: extract the messages, merge them into docs/po/ja.po (a changed
# message becomes fuzzy, a new one empty), and list what needs translating (a code block
# stays untranslated, so it is not listed). Needs GNU gettext (Debian: gettext).
po: book-tools
    MDBOOK_OUTPUT='{"xgettext": {"pot-file": "messages.pot", "granularity": 0}}' mdbook build docs --dest-dir target/po
    msgmerge --quiet --update --backup=none --no-wrap docs/po/ja.po target/po/messages.pot
    msgattrib --only-fuzzy --no-wrap docs/po/ja.po
    msgattrib --untranslated --no-wrap docs/po/ja.po | msggrep --invert-match --msgid --extended-regexp --regexp='^(```|#include )' --no-wrap

# Rewrite every pattern's README.md from its chapter in docs/src/patterns/.
readmes:
    cargo run -p workspace-tests --bin readmes

# A pattern's benchmark, Rust and Python in one run: `just bench queue -- --items 10000`.
bench pattern *args:
    cargo bench -p {{pattern}} {{args}}

# Every benchmark, recorded as one run in docs/results/bench.jsonl, then the figures.
bench-all:
    BENCH_SAVE=1 BENCH_RUN=$(date -u +%FT%TZ) cargo bench --workspace
    cargo run -p bench-harness --bin figures

# The chapters' figures, from docs/results/bench.jsonl.
figures:
    cargo run -p bench-harness --bin figures

# The fixture server, standalone.
fixtures addr="127.0.0.1:8080":
    cargo run -p fixture-server -- --addr {{addr}}

# Regenerate sqlx's offline query data after changing a checked query or the SQLite schema.
sqlx-prepare:
    patterns/database/sqlx-prepare.sh

# A PostgreSQL from the machine's own binaries on port 54329, as the tests start theirs
# (crates/external/src/postgres.rs): Debian's binaries, run as `postgres` when root,
# password authentication over TCP.
postgres:
    #!/usr/bin/env bash
    set -euo pipefail
    bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    mkdir -p {{pg_data}}
    [ "$(id -u)" = 0 ] && chown -R postgres {{pg_data}}
    if [ ! -f {{pg_data}}/PG_VERSION ]; then
      echo postgres > {{pg_data}}.pw && [ "$(id -u)" = 0 ] && chown postgres {{pg_data}}.pw
      as_postgres "$bin/initdb" -D {{pg_data}} -U postgres --pwfile={{pg_data}}.pw \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
      rm -f {{pg_data}}.pw
    fi
    as_postgres "$bin/pg_ctl" -D {{pg_data}} -o "-p {{pg_port}} -k /tmp -c listen_addresses=127.0.0.1" \
      -l {{pg_data}}/server.log -w start
    echo "postgres://postgres:postgres@127.0.0.1:{{pg_port}}/postgres"

# Stop that PostgreSQL.
postgres-stop:
    #!/usr/bin/env bash
    bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$bin/pg_ctl" -D {{pg_data}} stop; else "$bin/pg_ctl" -D {{pg_data}} stop; fi
