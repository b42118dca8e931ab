#!/usr/bin/env bash
# Every go test -fuzz target of the repository, one at a time, FUZZTIME each
# (docs/testing.md#fuzzing). Minimizing a new input gets FUZZMINIMIZETIME (a count
# of runs: the time goes to fuzzing). Stops at the first failure and names it;
# go test keeps the failing input in the package's testdata/fuzz/<target>/.
#
#	FUZZTIME          time (or count, 1000x) per target; default 30s
#	FUZZMINIMIZETIME  time or count to minimize an input; default 100x
#	FUZZ              an extended regexp of "package/dir FuzzName" lines to run
#	                  (e.g. FUZZ=convert/ or FUZZ=FuzzParse); default all
#	GO                the go command; default go
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-100x}
FUZZ=${FUZZ:-.}

# "dir FuzzName" for each target, by package (build/ holds build outputs).
targets=$(find . -path ./build -prune -o -name '*_test.go' -print0 |
	xargs -0 grep -Eo '^func Fuzz[A-Za-z0-9_]*\(' |
	sed -E 's|^\./(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\($|\1 \2|' |
	sort -u | grep -E -- "$FUZZ" || true)
if [ -z "$targets" ]; then
	echo "fuzz: no fuzz target matches FUZZ=$FUZZ" >&2
	exit 1
fi
count=$(wc -l <<<"$targets")
packages=$(cut -d' ' -f1 <<<"$targets" | sort -u | wc -l)
echo "fuzz: $count targets in $packages packages, $FUZZTIME each"

n=0
while read -r dir name <&3; do
	n=$((n + 1))
	echo "== [$n/$count] ./$dir $name"
	if ! "$GO" test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "./$dir"; then
		echo "fuzz: FAILED: ./$dir $name (a failing input is kept in $dir/testdata/fuzz/$name/; rerun it with go test -run '$name' ./$dir)" >&2
		exit 1
	fi
done 3<<<"$targets"
echo "fuzz: all $count targets ran $FUZZTIME without a failure"
