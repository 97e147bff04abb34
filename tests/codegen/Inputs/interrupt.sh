#!/bin/sh
# interrupt.sh MODEL WORK SIGNAL TARGET WHEN...: starts `tandemc MODEL -o WORK/d/out`
# once per WHEN and sends it SIGNAL
#   WHEN = SECONDS  that long after the start (importing, compiling),
#          staged   as soon as a staged output (out*.tmp-*) exists,
#          linking  as soon as tandemc has a child process (the linker),
# to tandemc alone (TARGET pid) or to its process group (TARGET group: what Ctrl-C in
# a terminal does, reaching the linker too); TARGET ignored: to tandemc started with
# SIGNAL ignored (as nohup does), which must then finish. Nothing may be left behind: either
# the compile was interrupted (killed by SIGNAL, and WORK/d is empty: no out,
# out.weights or out.tmp-*), or it had already finished (exit 0, out and out.weights
# and nothing else). A second look a moment later catches files that a surviving
# child (the linker) writes afterwards.
set -u
model=$1 work=$2 sig=$3 target=$4
shift 4
fail() { echo "interrupt.sh: $*" >&2; exit 1; }
case $sig in INT) signum=2 ;; TERM) signum=15 ;; HUP) signum=1 ;; *) fail "signal $sig?" ;; esac

# wait_for WHEN PID: returns once WHEN has come (or tandemc has exited).
wait_for() {
  case $1 in
  staged | linking)
    i=0
    while [ $i -lt 3000 ] && kill -0 "$2" 2>/dev/null; do
      if [ "$1" = staged ]; then
        for f in "$d"/*.tmp-*; do [ -e "$f" ] && return; done
      elif [ -n "$(cat "/proc/$2/task/$2/children" 2>/dev/null)" ]; then
        return
      fi
      sleep 0.01
      i=$((i + 1))
    done ;;
  *) sleep "$1" ;;
  esac
}

interrupted=0 finished=0
for when in "$@"; do
  d=$work/d
  rm -rf "$d" && mkdir -p "$d"
  # A session of its own, so that its process group is tandemc's and its children's;
  # and SIGINT not ignored, as it is for a background job of a script.
  if [ "$target" = ignored ]; then dispositions=--ignore-signal=$sig; else dispositions=--default-signal=INT,TERM,HUP; fi
  setsid env $dispositions tandemc "$model" -o "$d/out" 2>"$work/err" &
  pid=$!
  wait_for "$when" $pid
  if [ "$target" = group ]; then kill -s "$sig" -- "-$pid" 2>/dev/null; else kill -s "$sig" "$pid" 2>/dev/null; fi
  wait "$pid"
  rc=$?
  sleep 0.5
  left=$(cd "$d" && ls -A | tr '\n' ' ')
  if [ $rc -eq 0 ]; then
    [ "$left" = "out out.weights " ] || fail "SIG$sig at $when: finished, but $d holds: $left"
    finished=$((finished + 1))
  else
    [ $rc -eq $((128 + signum)) ] ||
      fail "SIG$sig at $when: exit $rc, expected $((128 + signum)): $(cat "$work/err")"
    [ -z "$left" ] || fail "SIG$sig at $when: interrupted, but $d holds: $left"
    interrupted=$((interrupted + 1))
  fi
  echo "SIG$sig to the $target at $when: $([ $rc -eq 0 ] && echo finished || echo interrupted), nothing left behind"
done
if [ "$target" = ignored ]; then
  [ $interrupted -eq 0 ] || fail "SIG$sig interrupted a compile that ignores it"
else
  [ $interrupted -gt 0 ] || fail "no compile was interrupted"
fi
