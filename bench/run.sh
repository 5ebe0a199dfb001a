#!/bin/sh
# run.sh runs the in-process benchmarks with the SDK and the baseline
# alternating run by run (so a change of machine load hits both alike),
# then compares them with benchstat. Usage, from the repository root:
#
#	sh bench/run.sh [rounds] [benchtime]
#
# Output: $TMPDIR/go-par-bench/{all,sdk,baseline}.txt and the benchstat table.
set -eu
rounds=${1:-6}
benchtime=${2:-1s}
out=${TMPDIR:-/tmp}/go-par-bench
mkdir -p "$out"
go test -c -o "$out/bench.test" ./bench
: > "$out/all.txt"
uptime >> "$out/all.txt"
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	for impl in sdk baseline; do
		"$out/bench.test" -test.run '^$' -test.benchmem -test.benchtime "$benchtime" \
			-test.bench "^Benchmark(Push|PushParallel|Login)\$/^$impl\$" >> "$out/all.txt"
	done
done
uptime >> "$out/all.txt"
head=$(grep -E '^(goos|goarch|pkg|cpu):' "$out/all.txt" | sort -u)
{ echo "$head"; grep -E '^Benchmark[^ ]*/sdk' "$out/all.txt" | sed -E 's#/sdk(/|-)#\1#'; } > "$out/sdk.txt"
{ echo "$head"; grep -E '^Benchmark[^ ]*/baseline' "$out/all.txt" | sed -E 's#/baseline(/|-)#\1#'; } > "$out/baseline.txt"
go run golang.org/x/perf/cmd/benchstat@latest baseline="$out/baseline.txt" sdk="$out/sdk.txt"
