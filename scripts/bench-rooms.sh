#!/usr/bin/env bash
# Kept for the commands of older BENCHMARKS.md sections: the rooms load
# figures are now measured by scripts/bench.sh, which this runs.
#
#   scripts/bench-rooms.sh            # = scripts/bench.sh memory
#   scripts/bench-rooms.sh redis      # = scripts/bench.sh redis
exec "$(dirname "$0")/bench.sh" "${1:-memory}"
