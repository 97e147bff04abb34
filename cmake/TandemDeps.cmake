# Finds LLVM 22, MLIR 22 and libxml2, each with a message naming the Debian package
# that provides it when it is missing.

set(_tandem_llvm_hint /usr/lib/llvm-22/lib/cmake)

# LLVM's version file only accepts an exact major.minor request, so find it
# unversioned and check the major version ourselves.
find_package(LLVM CONFIG QUIET HINTS ${_tandem_llvm_hint}/llvm NO_DEFAULT_PATH)
if(NOT LLVM_FOUND)
  find_package(LLVM CONFIG QUIET)
endif()
if(NOT LLVM_FOUND OR NOT LLVM_VERSION_MAJOR EQUAL 22)
  message(FATAL_ERROR
    "LLVM 22 was not found. Install it with: apt-get install llvm-22-dev "
    "(from bookworm-security), or point LLVM_DIR at lib/cmake/llvm of an LLVM 22.")
endif()

find_package(MLIR CONFIG QUIET HINTS ${_tandem_llvm_hint}/mlir NO_DEFAULT_PATH)
if(NOT MLIR_FOUND)
  find_package(MLIR CONFIG QUIET HINTS ${LLVM_LIBRARY_DIR}/cmake/mlir)
endif()
if(NOT MLIR_FOUND)
  message(FATAL_ERROR
    "MLIR 22 was not found. Install it with: apt-get install libmlir-22-dev mlir-22-tools "
    "(from bookworm-security), or point MLIR_DIR at lib/cmake/mlir of an MLIR 22.")
endif()

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBXML2 QUIET IMPORTED_TARGET libxml-2.0)
endif()
if(NOT LIBXML2_FOUND)
  message(FATAL_ERROR
    "libxml2 was not found (pkg-config libxml-2.0). Install it with: apt-get install libxml2-dev pkg-config")
endif()

message(STATUS "tandem: LLVM ${LLVM_PACKAGE_VERSION} in ${LLVM_LIBRARY_DIR}, libxml2 ${LIBXML2_VERSION}")

# The MLIR C API ships only as static archives that resolve their C++ symbols
# against libMLIR.so; link them by path inside a group (see shared notes).
file(GLOB TANDEM_MLIR_CAPI_ARCHIVES ${LLVM_LIBRARY_DIR}/libMLIRCAPI*.a)
if(NOT TANDEM_MLIR_CAPI_ARCHIVES)
  message(FATAL_ERROR "No libMLIRCAPI*.a in ${LLVM_LIBRARY_DIR}: install libmlir-22-dev")
endif()
find_library(TANDEM_LIBMLIR NAMES MLIR PATHS ${LLVM_LIBRARY_DIR} NO_DEFAULT_PATH REQUIRED)
find_library(TANDEM_LIBLLVM NAMES LLVM LLVM-22 PATHS ${LLVM_LIBRARY_DIR} NO_DEFAULT_PATH REQUIRED)

add_library(tandem_mlir INTERFACE)
target_include_directories(tandem_mlir SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
target_link_libraries(tandem_mlir INTERFACE
  -Wl,--start-group ${TANDEM_MLIR_CAPI_ARCHIVES} -Wl,--end-group
  ${TANDEM_LIBMLIR} ${TANDEM_LIBLLVM} stdc++ m)
target_link_options(tandem_mlir INTERFACE -Wl,-rpath,${LLVM_LIBRARY_DIR})

set(TANDEM_LLVM_TOOLS_DIR ${LLVM_TOOLS_BINARY_DIR})
