#!/bin/sh
# install.cmake_app: examples/cmake-app built against an installed tandem, as a user
# would build it (find_package(Tandem), tandem_add_model), then rebuilt: it must redo
# exactly what a change calls for, and two builds must give the same bytes.
#   cmake_app_test.sh CMAKE BUILD_DIR SOURCE_DIR NPYCMP WORK_DIR
set -eu
if [ $# -ne 5 ]; then
  echo "usage: $0 CMAKE BUILD_DIR SOURCE_DIR NPYCMP WORK_DIR" >&2
  exit 2
fi
cmake=$1 build=$2 src=$3 npycmp=$4 work=$5
prefix=$work/prefix
model=$src/tests/models/mlp
a=$work/a
fail() { echo "install.cmake_app: $*" >&2; exit 1; }
# Only what this script says may choose the install, the generator, or the package.
unset DESTDIR CMAKE_GENERATOR Tandem_DIR Tandem_ROOT

# configure DIR GENERATOR [-DVAR=VALUE...]
configure() {
  dir=$1 generator=$2
  shift 2
  echo "+ cmake -S examples/cmake-app -B $dir -G '$generator'" \
       "-DCMAKE_PREFIX_PATH=$prefix -DMODEL=$work/model/model.xml $*"
  "$cmake" -S "$src/examples/cmake-app" -B "$dir" -G "$generator" \
    -DCMAKE_PREFIX_PATH="$prefix" -DMODEL="$work/model/model.xml" "$@" \
    >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; fail "configuring $dir failed"; }
}
# build DIR: builds, leaves its output in $log
build() {
  log=$("$cmake" --build "$1" 2>&1) || { echo "$log"; fail "building $1 failed"; }
  echo "$log" | sed 's/^/  | /'
}
# The build's steps, one per line: model compiles, C compiles, links.
steps() { echo "$log" | grep -E 'tandemc: compiling|Building C|Linking C|Generating' || true; }
stamps() {
  stat -c '%n %y' "$a/tandem/mlp/libmlp.a" "$a/tandem/mlp/include/mlp.h" "$a/mlp.weights" \
    "$a/app" "$a/CMakeFiles/app.dir/main.c.o"
}
expect_nothing_to_do() {
  build "$a"
  [ -z "$(steps)" ] || fail "$1: the build did something: $(steps)"
  [ "$(stamps)" = "$before" ] || fail "$1: outputs changed"
}
# Only the model recompiles and the app relinks; main.c (includes mlp.h) does not.
expect_model_and_link() {
  build "$a"
  echo "$log" | grep -q 'tandemc: compiling model mlp' || fail "$1: the model did not recompile"
  echo "$log" | grep -q 'Linking C executable app' || fail "$1: app did not relink"
  if echo "$log" | grep -q 'Building C'; then fail "$1: C sources recompiled"; fi
  [ "$(stamps | grep main.c.o)" = "$(echo "$before" | grep main.c.o)" ] ||
    fail "$1: main.c.o changed"
  before=$(stamps)
  expect_nothing_to_do "$1, then again"
}
run_app() {
  "$a/app" "$model/input_0.npy" "$work/out.npy"
  "$npycmp" "$work/out.npy" "$model/expected_0.npy" --rtol 1e-4
}

rm -rf "$work" && mkdir -p "$work/model"
echo "+ cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"
# A model of our own to touch, so that the source tree stays clean.
cp "$model/model.xml" "$model/model.bin" "$work/model/"

echo "== first build, run"
configure "$a" "Unix Makefiles"
grep -qx "Tandem_DIR:PATH=$prefix/lib/cmake/Tandem" "$a/CMakeCache.txt" ||
  fail "find_package(Tandem) did not find the install in $prefix"
build "$a"
[ -f "$a/mlp.weights" ] || fail "mlp.weights is not beside app"
run_app
"$a/app" "$model/input_0.npy" | grep -q '^out0: f32\[1,32\] ' || fail "app prints no out0"
before=$(stamps)

echo "== nothing changed: nothing to do"
expect_nothing_to_do "second build"

echo "== the model's files touched"
touch "$work/model/model.xml"
expect_model_and_link "model.xml touched"
touch "$work/model/model.bin"
expect_model_and_link "model.bin touched (from tandemc's depfile)"

echo "== tandemc's flags changed"
configure "$a" "Unix Makefiles" -DMODEL_FLAGS=-O2
grep -qx -- -O2 "$a/tandem/mlp/command.txt" || fail "-O2 is not in command.txt"
expect_model_and_link "MODEL_FLAGS=-O2"
run_app
configure "$a" "Unix Makefiles" -DMODEL_FLAGS=-O2
expect_nothing_to_do "configured again with the same flags"
configure "$a" "Unix Makefiles" -DMODEL_FLAGS=
expect_model_and_link "MODEL_FLAGS back to none"

echo "== weights embedded, then back in mlp.weights"
configure "$a" "Unix Makefiles" -DMODEL_EMBED_WEIGHTS=ON
build "$a"
[ ! -e "$a/mlp.weights" ] || fail "EMBED_WEIGHTS: mlp.weights is still there"
grep -q 'define MLP_WEIGHTS_EMBEDDED 1' "$a/tandem/mlp/include/mlp.h" ||
  fail "EMBED_WEIGHTS: mlp.h does not say the weights are embedded"
run_app
configure "$a" "Unix Makefiles" -DMODEL_EMBED_WEIGHTS=OFF
build "$a"
[ -f "$a/mlp.weights" ] || fail "mlp.weights did not come back"
run_app

echo "== a second build tree: the same bytes"
b=$work/b
generator="Unix Makefiles"
if command -v ninja >/dev/null; then generator=Ninja; fi
configure "$b" "$generator"
build "$b"
cmp "$a/tandem/mlp/libmlp.a" "$b/tandem/mlp/libmlp.a" || fail "libmlp.a differs between builds"
cmp "$a/mlp.weights" "$b/mlp.weights" || fail "mlp.weights differs between builds"
build "$b"
[ -z "$(steps)" ] || fail "$generator: the second build did something: $(steps)"
echo "install.cmake_app: ok"
