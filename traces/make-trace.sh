#!/bin/sh
# Regenerates traces/pages.lackey.gz: builds pages.c statically (so no dynamic loader runs in the trace) and traces
# every memory access of it with valgrind's lackey. Needs gcc, valgrind and gzip. Run from anywhere:
#   traces/make-trace.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -static -O1 -o "$work/pages" "$here/pages.c"
cd "$work"
# lackey writes the trace with valgrind's own ==PID== lines around it (faultsim skips those); the exit code is the checksum
valgrind --tool=lackey --trace-mem=yes --log-file=pages.lackey ./pages || true
gzip -9 -n -c pages.lackey > "$here/pages.lackey.gz"
echo "wrote $here/pages.lackey.gz: $(zcat "$here/pages.lackey.gz" | wc -l) lines, $(wc -c < "$here/pages.lackey.gz") bytes"
