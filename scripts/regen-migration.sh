#!/usr/bin/env bash
# Regenerate the single initial migration from the models. Pressroom has not
# shipped a schema yet, so one migration is kept until the first release;
# after that, add ordinary incremental migrations with `pressroom db migrate`.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f migrations/versions/0001_initial.py
PRESSROOM_DATABASE_URL="sqlite:///$tmp/regen.db" PRESSROOM_SECRET_KEY=regen \
  .venv/bin/pressroom db migrate -m initial --rev-id 0001_initial >/dev/null 2>&1
mv migrations/versions/0001_initial_initial.py migrations/versions/0001_initial.py
echo "migrations/versions/0001_initial.py regenerated"
