#!/usr/bin/env bash
# List every BN101-BN104 finding over the real-code corpus, for triage by reading the code.
#   benchmarks/triage/mode.sh [CORPUS_DIR] [OUTPUT]
# CORPUS_DIR defaults to $CORPUS or ~/bnlint-corpus/large (built by the shared make_corpus.sh).
set -euo pipefail
corpus="${1:-${CORPUS:-$HOME/bnlint-corpus/large}}"
output="${2:-mode-findings.txt}"
bnlint="${BNLINT:-bnlint}"
"$bnlint" check --no-cache --select BN101,BN102,BN103,BN104 --format concise --exit-zero \
  "$corpus" > "$output"
echo "findings per rule:"
grep -oE ' BN10[1-4] ' "$output" | sort | uniq -c || true
echo "total: $(wc -l < "$output") (listed in $output)"
