#!/usr/bin/env bash
# Batch extraction, resumable: JSONL in, JSONL out, on the embedded engine (no API key).
#
#   examples/batch_extract.sh [WORKDIR]
#
# Writes contacts.jsonl and contact.schema.json into WORKDIR (default: a temporary
# folder), extracts every line into results.jsonl, then runs the same command again:
# the second run finds every id already in the output and does nothing. Kill the
# first run at any moment (Ctrl-C, kill -9) and rerun it: it resumes where it stopped.
# With the package installed, `wafer-grammar batch extract ...` is the same command.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$here/.venv/bin/python}"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"

cat > "$work/contact.schema.json" <<'JSON'
{"type": "object",
 "properties": {"name": {"type": "string", "maxLength": 24},
                "email": {"type": "string", "maxLength": 32}},
 "required": ["name", "email"], "additionalProperties": false}
JSON

cat > "$work/contacts.jsonl" <<'JSON'
{"id": "ann", "text": "Hi, I am Ann Lee. Write to ann@lee.org any time."}
{"id": "bob", "text": "Contact: Bob Stone <bob@stone.io>"}
JSON

batch() {
    "$python" -m wafer_grammar.cli batch extract --schema "$work/contact.schema.json" \
        --input "$work/contacts.jsonl" --output "$work/results.jsonl" --max-tokens 48 \
        --instructions "Copy the name and the email address exactly as they appear in the text, as JSON." \
        "$@"
}

batch --dry-run
batch --no-progress
batch --no-progress          # resumes: nothing left to do
cat "$work/results.jsonl"
