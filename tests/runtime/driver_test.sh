#!/bin/sh
# End-to-end test of tandem_driver_main through executables built like tandemc
# --emit=exe output: the fake model object + libtandem_main.a + libtandem_runtime.a.
#   driver_test.sh FAKE_MODEL_EXE FAKE_EMBEDDED_EXE RT_FIXTURES NPYCMP
# Checks exit codes, that every error is exactly one line "model: ..." on stderr, and
# that a failed run leaves no output file (not even a temporary).
set -u
MODEL_EXE=$1 EMBEDDED_EXE=$2 FIXTURES=$3 NPYCMP=$4
T=$(mktemp -d "${TMPDIR:-/tmp}/tandem-driver-XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
T=$(cd "$T" && pwd -P) # the real path, as /proc/self/exe reports it
failures=0

fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }

cp "$MODEL_EXE" "$T/model" && cp "$EMBEDDED_EXE" "$T/embedded" && "$FIXTURES" "$T" || exit 2
cd "$T" || exit 2

# run EXPECTED_CODE COMMAND...: runs with stdout in out.txt and stderr in err.txt.
run() {
  expected=$1; shift
  "$@" >out.txt 2>err.txt
  code=$?
  [ "$code" -eq "$expected" ] || fail "$* exited $code, expected $expected: $(cat err.txt)"
}

# expect_error CODE MESSAGE COMMAND...: fails with exactly one stderr line MESSAGE,
# nothing on stdout, and no y.npy/z.npy or temporary left behind.
expect_error() {
  expected=$1 message=$2; shift 2
  run "$expected" "$@"
  [ "$(wc -l <err.txt)" -eq 1 ] || fail "$*: stderr is not one line: $(cat err.txt)"
  [ "$(cat err.txt)" = "$message" ] || fail "$*: stderr '$(cat err.txt)', expected '$message'"
  [ -s out.txt ] && fail "$*: wrote to stdout: $(cat out.txt)"
  for f in y.npy z.npy *.tmp-*; do [ -e "$f" ] && fail "$*: left $f behind"; done
  rm -f y.npy z.npy
}

# expect_line FILE REGEX: FILE has a line matching REGEX (grep -E).
expect_line() { grep -Eq "$2" "$1" || fail "no line /$2/ in $1: $(cat "$1")"; }

# ---- good runs ----
run 0 ./model --input=@x.npy --input=@n.npy
expect_line out.txt '^y: f32\[1,16\] = \[2, 7\.5, -0\.5, 3\.375, 4\.25, -2, 4, 4\.25, \.\.\.\]$'
expect_line out.txt '^z: i64\[2\] = \[6, 10\]$'
[ -s err.txt ] && fail "good run wrote to stderr: $(cat err.txt)"

run 0 ./model --input=@x.npy --input=@n.npy --output=@y.npy --output=@z.npy
[ -s out.txt ] && fail "--output run printed: $(cat out.txt)"
"$NPYCMP" y.npy y_ref.npy --rtol 0 --atol 0 >/dev/null || fail "y.npy differs from y_ref.npy"
"$NPYCMP" z.npy z_ref.npy --rtol 0 --atol 0 >/dev/null || fail "z.npy differs from z_ref.npy"
rm -f y.npy z.npy

run 0 ./model --input=@x.npy --input=@n.npy --output=@y.npy   # z is printed
[ -f y.npy ] || fail "y.npy not written"
expect_line out.txt '^z: i64\[2\] = \[6, 10\]$'
grep -q '^y:' out.txt && fail "y printed although written"
rm -f y.npy

run 0 ./model --input=@x.npy --input=@n.npy --weights=model.weights --bench=5
expect_line out.txt '^latency: median [0-9]+\.[0-9]{3} ms, min [0-9]+\.[0-9]{3} ms, 5 runs$'
[ "$(wc -l <out.txt)" -eq 1 ] || fail "--bench printed more than the latency line"
run 0 ./model --input=@x.npy --input=@n.npy --weights=model.weights --threads=2
expect_line out.txt '^z: i64\[2\] = \[6, 10\]$'

run 0 ./model --help
expect_line out.txt '^usage: model --input=@FILE\.npy'
expect_line out.txt '^  x: f32\[1,16\]$'
expect_line out.txt '^  z: i64\[2\]$'

# Embedded weights: no file next to it, and --weights is ignored.
run 0 ./embedded --input=@x.npy --input=@n.npy --weights=/nonexistent
expect_line out.txt '^z: i64\[2\] = \[6, 10\]$'

# ---- usage errors: exit 2 ----
expect_error 2 "model: expected 2 inputs (x, n), got 1" ./model --input=@x.npy
expect_error 2 "model: expected 2 inputs (x, n), got 0" ./model
expect_error 2 "model: --input=x.npy: expected --input=@FILE.npy (the @ marks a file, as in iree-run-module)" \
  ./model --input=x.npy --input=@n.npy
expect_error 2 "model: --output=@: missing file name after '@'" \
  ./model --input=@x.npy --input=@n.npy --output=@
expect_error 2 "model: unknown option '--frobnicate' (see --help)" ./model --frobnicate
expect_error 2 "model: unexpected argument 'x.npy' (inputs are given as --input=@FILE.npy)" ./model x.npy
expect_error 2 "model: --input needs a value: --input=..." ./model --input x.npy
expect_error 2 "model: --bench=0: expected a number of runs from 1 to 10000000" \
  ./model --input=@x.npy --input=@n.npy --bench=0
expect_error 2 "model: --bench=3x: expected a number of runs from 1 to 10000000" \
  ./model --input=@x.npy --input=@n.npy --bench=3x
expect_error 2 "model: --weights given twice" ./model --weights=a --weights=b
expect_error 2 "model: --threads=0: expected a count from 1" ./model --input=@x.npy --input=@n.npy --threads=0
expect_error 2 "model: --threads given twice" ./model --threads=1 --threads=2
expect_error 2 "model: got 3 --output flags, but the model has 2 outputs (y, z)" \
  ./model --input=@x.npy --input=@n.npy --output=@y.npy --output=@z.npy --output=@w.npy

# ---- bad inputs and files: exit 1 ----
expect_error 1 "model: x_short.npy: input 'x' expects f32[1,16], got f32[1,15]" \
  ./model --input=@x_short.npy --input=@n.npy --output=@y.npy
expect_error 1 "model: x_i32.npy: input 'x' expects f32[1,16], got i32[1,16]" \
  ./model --input=@x_i32.npy --input=@n.npy
expect_error 1 "model: x_trunc.npy: truncated: header says 64 bytes of data, file has 10" \
  ./model --input=@x_trunc.npy --input=@n.npy --output=@y.npy
expect_error 1 "model: missing.npy: cannot open: No such file or directory" \
  ./model --input=@x.npy --input=@missing.npy
expect_error 1 "model: model.weights: not a .npy file (bad magic)" \
  ./model --input=@model.weights --input=@n.npy
expect_error 1 "model: other.weights: weights belong to another model (hash 0x344a864ead4b48d7, model expects 0x344a864ead4b48d6)" \
  ./model --input=@x.npy --input=@n.npy --weights=other.weights --output=@y.npy
expect_error 1 "model: x.npy: not a tandem weights file (no \"TNDMWGT1\" magic)" \
  ./model --input=@x.npy --input=@n.npy --weights=x.npy
# The default weights path is the executable's real path + ".weights".
cp model model2
expect_error 1 "model2: $T/model2.weights: cannot open: No such file or directory (pass --weights=PATH)" \
  ./model2 --input=@x.npy --input=@n.npy
expect_error 1 "model: nodir/y.npy: cannot create: No such file or directory" \
  ./model --input=@x.npy --input=@n.npy --output=@nodir/y.npy
# The second output fails after the first is complete: neither may remain.
expect_error 1 "model: nodir/z.npy: cannot create: No such file or directory" \
  ./model --input=@x.npy --input=@n.npy --output=@y.npy --output=@nodir/z.npy
mkdir zdir.npy
expect_error 1 "model: zdir.npy: cannot rename the finished file into place: Is a directory" \
  ./model --input=@x.npy --input=@n.npy --output=@y.npy --output=@zdir.npy

if [ "$failures" -ne 0 ]; then
  echo "$failures driver check(s) failed" >&2
  exit 1
fi
echo "driver: all checks passed"
