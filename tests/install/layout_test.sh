#!/bin/sh
# install.layout: install the build, check what lands where and that it works there.
#   layout_test.sh CMAKE BUILD_DIR SOURCE_DIR NPYCMP WORK_DIR
set -eu
if [ $# -ne 5 ]; then
  echo "usage: $0 CMAKE BUILD_DIR SOURCE_DIR NPYCMP WORK_DIR" >&2
  exit 2
fi
cmake=$1 build=$2 src=$3 npycmp=$4 work=$5
prefix=$work/prefix
model=$src/tests/models/mlp
fail() { echo "install.layout: $*" >&2; exit 1; }
unset DESTDIR

rm -rf "$work" && mkdir -p "$work"
echo "+ cmake --install $build --prefix $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"

for f in bin/tandemc include/tandem/runtime.h \
         lib/libtandem_runtime.a lib/libtandem_runtime.so lib/libtandem_main.a \
         lib/pkgconfig/tandem-runtime.pc \
         lib/cmake/Tandem/TandemConfig.cmake lib/cmake/Tandem/TandemConfigVersion.cmake \
         lib/cmake/Tandem/TandemTargets.cmake lib/cmake/Tandem/TandemFunctions.cmake; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done

# The shared runtime: versioned, with its SONAME; the API exported, the rest hidden.
soname=$(readelf -d "$prefix/lib/libtandem_runtime.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libtandem_runtime.so.0 ] || fail "SONAME is '$soname', not libtandem_runtime.so.0"
[ -e "$prefix/lib/$soname" ] || fail "$soname is not installed"
exported=$(nm -D --defined-only "$prefix/lib/libtandem_runtime.so" | grep ' T ')
if echo "$exported" | grep -qv ' tandem_'; then
  fail "libtandem_runtime.so exports more than tandem_*: $(echo "$exported" | grep -v ' tandem_')"
fi

# The installed tandemc finds libMLIR.so and libLLVM.so (its RUNPATH) and runs.
if ldd "$prefix/bin/tandemc" | grep 'not found'; then fail "tandemc: libraries not found"; fi
"$prefix/bin/tandemc" --version

# It links executables with the installed runtime (in ../lib from its own folder).
env -u TANDEM_RUNTIME_DIR "$prefix/bin/tandemc" "$model/model.xml" -o "$work/mlp_exe"
"$work/mlp_exe" --input=@"$model/input_0.npy" --output=@"$work/exe_out.npy"
"$npycmp" "$work/exe_out.npy" "$model/expected_0.npy" --rtol 1e-4

# A program built with pkg-config's flags, on the shared runtime.
if command -v pkg-config >/dev/null; then
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
  echo "+ pkg-config tandem-runtime: $(pkg-config --cflags --libs tandem-runtime)"
  version=$("$prefix/bin/tandemc" --version | sed -n 's/^tandemc \([^ ]*\).*/\1/p')
  [ "$(pkg-config --modversion tandem-runtime)" = "$version" ] ||
    fail "pkg-config's version is not tandemc's ($version)"
  mkdir -p "$work/pc"
  "$prefix/bin/tandemc" "$model/model.xml" -o "$work/pc/libmlp.a"
  # shellcheck disable=SC2046 # pkg-config's output is meant to be split
  ${CC:-cc} -o "$work/pc/hello" "$src/examples/runtime/hello_terse.c" -I"$work/pc" \
    $(pkg-config --cflags tandem-runtime) "$work/pc/libmlp.a" \
    $(pkg-config --libs tandem-runtime) -lm \
    -Wl,-rpath,"$(pkg-config --variable=libdir tandem-runtime)"
  loaded=$(ldd "$work/pc/hello" | sed -n 's/.*libtandem_runtime\.so\.0 => \(.*\) (0x.*/\1/p')
  [ -n "$loaded" ] && [ "$(readlink -f "$loaded")" = "$(readlink -f "$prefix/lib/$soname")" ] ||
    fail "the pkg-config program loads '$loaded', not the installed libtandem_runtime.so"
  "$work/pc/hello" "$work/pc/mlp.weights" "$model/input_0.npy" "$work/pc/out.npy"
  "$npycmp" "$work/pc/out.npy" "$model/expected_0.npy" --rtol 1e-4
  # shellcheck disable=SC2046 # as above
  # Linked with the static runtime, a program that opens a model has the thread pool
  # its kernels reach through a weak reference (runtime/model.c pulls it in).
  ${CC:-cc} -o "$work/pc/hello_static" "$src/examples/runtime/hello_terse.c" -I"$work/pc" \
    -I"$prefix/include" "$work/pc/libmlp.a" "$prefix/lib/libtandem_runtime.a" \
    $(pkg-config --libs-only-other tandem-runtime) -lm
  nm "$work/pc/hello_static" | grep -q ' T tandem_parallel_for$' ||
    fail "a program linked with libtandem_runtime.a lacks the thread pool"
else
  echo "install.layout: no pkg-config; its check skipped"
fi
echo "install.layout: ok"
