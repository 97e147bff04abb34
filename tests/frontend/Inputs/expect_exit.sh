#!/bin/sh
# usage: expect_exit.sh CODE OUTDIR ERRFILE COMMAND [ARG...]
#
# Runs COMMAND under a 20 s timeout with its stderr in ERRFILE and fails (printing
# why) unless
#   - it exits with status CODE (124 = it hung, 128+N = it died of signal N),
#   - it wrote nothing to stdout (a failed compile must not emit half an output),
#   - OUTDIR ('-' to skip) is empty afterwards: no output file and no staged
#     *.tmp-* file is left behind.
# The frontend tests then check ERRFILE with `count 1` (one line) and FileCheck.
if [ $# -lt 4 ]; then
  echo "usage: $0 CODE OUTDIR ERRFILE COMMAND [ARG...]" >&2
  exit 2
fi
code=$1 dir=$2 err=$3
shift 3
timeout 20 "$@" >"$err.stdout" 2>"$err"
rc=$?
status=0
if [ "$rc" -ne "$code" ]; then
  echo "expected exit status $code, got $rc: $*"
  [ "$rc" -eq 124 ] && echo "(it did not finish within 20 s)"
  [ "$rc" -gt 128 ] && [ "$rc" -ne 124 ] && echo "(it died of signal $((rc - 128)))"
  echo "--- stderr:"
  cat "$err"
  status=1
fi
if [ -s "$err.stdout" ]; then
  echo "unexpected output on stdout:"
  head -c 2000 "$err.stdout"
  status=1
fi
if [ "$dir" != - ] && [ -n "$(ls -A "$dir")" ]; then
  echo "files left behind in $dir:"
  ls -A "$dir"
  status=1
fi
exit $status
