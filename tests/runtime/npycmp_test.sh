#!/bin/sh
# tandem-npycmp on pass and fail cases.   npycmp_test.sh RT_FIXTURES NPYCMP
set -u
FIXTURES=$1 NPYCMP=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/tandem-npycmp-XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
"$FIXTURES" "$T" || exit 2
cd "$T" || exit 2
failures=0

fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }

# check CODE REGEX ARGS...: exit code CODE and one stdout line matching REGEX.
check() {
  expected=$1 pattern=$2; shift 2
  "$NPYCMP" "$@" >out.txt 2>err.txt
  code=$?
  [ "$code" -eq "$expected" ] || fail "npycmp $* exited $code, expected $expected: $(cat out.txt err.txt)"
  [ -z "$pattern" ] || grep -Eq "$pattern" out.txt err.txt || fail "npycmp $*: no /$pattern/ in: $(cat out.txt err.txt)"
}

check 0 '^max abs err 0, max rel err 0 \(at index \[0\]\), norm rel err 0: PASS$' a.npy a.npy
check 0 ': PASS$' a_close.npy a.npy
check 1 '^max abs err 0\.01, max rel err 0\.01 \(at index \[0\]\), norm rel err 0\.00434: FAIL$' a_far.npy a.npy
check 0 ': PASS$' a_far.npy a.npy --rtol 0.02
check 0 ': PASS$' a_far.npy a.npy --rtol=0 --atol=0.011
check 0 ': PASS$' a_f16.npy a.npy --atol 0 --rtol 0
check 1 'max rel err 1 \(at index \[2\]\).*: FAIL$' a_i32.npy a.npy
# Near-zero elements are judged against the tensor's scale by default.
check 0 'max rel err 1 \(at index \[1\]\).*: PASS$' big_close.npy big.npy
check 1 ': FAIL$' big_close.npy big.npy --atol 0
check 0 ': PASS$' nan.npy nan.npy
check 1 ', 1 NaN mismatches: FAIL$' nan.npy a.npy
check 1 '^shape mismatch: actual f32\[3\], expected f32\[4\]: FAIL$' a_short.npy a.npy
check 2 'absent\.npy: cannot open' absent.npy a.npy
check 2 'expected two \.npy files' a.npy
check 2 "bad tolerance 'x'" a.npy a.npy --rtol x
check 2 'unknown option' a.npy a.npy --frob

if [ "$failures" -ne 0 ]; then
  echo "$failures npycmp check(s) failed" >&2
  exit 1
fi
echo "npycmp: all checks passed"
