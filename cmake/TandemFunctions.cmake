# tandem_add_model: compile a model with tandemc at build time and link it like a library.
#
#   tandem_add_model(NAME MODEL path
#                    [EMBED_WEIGHTS] [TARGET_CPU cpu] [WEIGHTS_DIR dir]
#                    [LP auto|off|A:B] [LP_CALIBRATION file]
#                    [EXTRA_FLAGS flag...])
#
# creates NAME, a STATIC IMPORTED (GLOBAL) library target: link it and include "NAME.h".
#
#   tandem_add_model(mlp MODEL models/mlp/model.xml)
#   add_executable(app main.c)
#   target_link_libraries(app PRIVATE mlp)    # libmlp.a, NAME.h's folder, Tandem::runtime, m
#
# The compile runs `tandemc MODEL -o BIN/tandem/NAME/libNAME.a --name=NAME ... -MD`:
#   - libNAME.a lands in ${CMAKE_CURRENT_BINARY_DIR}/tandem/NAME/, NAME.h in its include/
#     subfolder (copied only when its text changed, so that a recompile giving the same
#     interface does not recompile the sources that include it);
#   - NAME.weights is moved into WEIGHTS_DIR, by default where executables go:
#     CMAKE_RUNTIME_OUTPUT_DIRECTORY if set, else ${CMAKE_CURRENT_BINARY_DIR}, which is
#     where add_executable() in the same directory puts its program. The runtime needs
#     its path at open; a program can look beside itself. The target's TANDEM_WEIGHTS
#     property holds the path, e.g. for install(FILES $<TARGET_PROPERTY:mlp,TANDEM_WEIGHTS>).
#     WEIGHTS_DIR must be on the build tree's filesystem (the file is renamed, not copied:
#     weights can be gigabytes). With EMBED_WEIGHTS the weights are inside libNAME.a,
#     there is no weights file, and TANDEM_WEIGHTS is empty.
# It reruns when the model or any file it read changes (tandemc's -MD depfile: an OpenVINO
# model's .bin, a .mlir model's weight files), when tandemc changes, and when the flags
# change: the command line is written to tandem/NAME/command.txt at generate time (only
# if it differs), and the compile depends on that file. Then only what links libNAME.a
# relinks.
#
#   TARGET_CPU   --target-cpu=CPU (default: the build machine's CPU; name one for
#                programs that run on other machines)
#   LP, LP_CALIBRATION  passed as --lp=... and --lp-calibration=FILE (the calibration file
#                is a dependency). For tandemc's layer-parallel rewrite, which is not
#                released yet: tandemc 0.1 rejects --lp (usage error).
#   EXTRA_FLAGS  more tandemc flags, as a list (e.g. -O2)
#
# Needs CMake 3.20 (DEPFILE with Makefile generators) and the Tandem::tandemc and
# Tandem::runtime targets (find_package(Tandem), or tandem's own build).

include_guard(GLOBAL)

function(tandem_add_model name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "EMBED_WEIGHTS"
    "MODEL;TARGET_CPU;WEIGHTS_DIR;LP;LP_CALIBRATION" "EXTRA_FLAGS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
      "tandem_add_model(${name}): unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "tandem_add_model(${name}): NAME must be a C identifier "
                        "(it prefixes the model's symbols: NAME_run, NAME_desc)")
  endif()
  if(NOT arg_MODEL)
    message(FATAL_ERROR "tandem_add_model(${name}): MODEL is required")
  endif()
  if(NOT TARGET Tandem::tandemc OR NOT TARGET Tandem::runtime)
    message(FATAL_ERROR "tandem_add_model(${name}): Tandem::tandemc or Tandem::runtime is "
                        "missing (find_package(Tandem) first; was tandem built with its compiler?)")
  endif()
  if(CMAKE_VERSION VERSION_LESS 3.20)
    message(FATAL_ERROR "tandem_add_model needs CMake 3.20 or newer")
  endif()

  get_filename_component(model "${arg_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/tandem/${name}")
  set(lib "${dir}/lib${name}.a")
  set(include_dir "${dir}/include")
  set(depfile "${dir}/${name}.d")
  set(command_file "${dir}/command.txt")
  if(arg_WEIGHTS_DIR)
    get_filename_component(weights_dir "${arg_WEIGHTS_DIR}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  elseif(CMAKE_RUNTIME_OUTPUT_DIRECTORY)
    set(weights_dir "${CMAKE_RUNTIME_OUTPUT_DIRECTORY}")
  else()
    set(weights_dir "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  set(weights "${weights_dir}/${name}.weights")

  set(flags "--name=${name}")
  set(deps "${model}")
  if(arg_EMBED_WEIGHTS)
    list(APPEND flags --embed-weights)
  endif()
  if(arg_TARGET_CPU)
    list(APPEND flags "--target-cpu=${arg_TARGET_CPU}")
  endif()
  if(DEFINED arg_LP)
    list(APPEND flags "--lp=${arg_LP}")
  endif()
  if(arg_LP_CALIBRATION)
    get_filename_component(calibration "${arg_LP_CALIBRATION}" ABSOLUTE
                           BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND flags "--lp-calibration=${calibration}")
    list(APPEND deps "${calibration}")
  endif()
  list(APPEND flags ${arg_EXTRA_FLAGS})

  # The compile's command line and where the weights go, one item a line: a change to
  # any of them rewrites the file (file(GENERATE) leaves an unchanged file alone).
  list(JOIN flags "\n" flags_text)
  file(GENERATE OUTPUT "${command_file}" CONTENT
       "$<TARGET_FILE:Tandem::tandemc>\n${model}\n${flags_text}\nweights: ${weights_dir}\n")
  # Imported targets need their include folder to exist when the build is generated.
  file(MAKE_DIRECTORY "${include_dir}")

  if(arg_EMBED_WEIGHTS)
    set(weights_outputs "")
    set(place_weights COMMAND "${CMAKE_COMMAND}" -E rm -f "${dir}/${name}.weights" "${weights}")
  elseif(weights_dir STREQUAL dir)
    set(weights_outputs "${weights}")
    set(place_weights "")
  else()
    set(weights_outputs "${weights}")
    set(place_weights COMMAND "${CMAKE_COMMAND}" -E rename "${dir}/${name}.weights" "${weights}")
  endif()

  cmake_policy(PUSH)
  cmake_policy(SET CMP0116 NEW)  # depfile paths as written (they are absolute)
  add_custom_command(
    OUTPUT "${lib}" ${weights_outputs}
    BYPRODUCTS "${include_dir}/${name}.h" "${dir}/${name}.h"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${include_dir}" "${weights_dir}"
    COMMAND Tandem::tandemc "${model}" -o "${lib}" ${flags} -MD -MF "${depfile}"
    COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${dir}/${name}.h" "${include_dir}/${name}.h"
    ${place_weights}
    DEPENDS ${deps} "${command_file}" Tandem::tandemc
    DEPFILE "${depfile}"
    COMMENT "tandemc: compiling model ${name} (${model})"
    VERBATIM)
  cmake_policy(POP)

  # Built by `all` like a library of the project's own, and before whatever links NAME.
  add_custom_target(tandem_model_${name} ALL DEPENDS "${lib}" ${weights_outputs})
  add_library(${name} STATIC IMPORTED GLOBAL)
  set_target_properties(${name} PROPERTIES
    IMPORTED_LOCATION "${lib}"
    INTERFACE_INCLUDE_DIRECTORIES "${include_dir}"
    INTERFACE_LINK_LIBRARIES "Tandem::runtime;m"
    TANDEM_HEADER "${include_dir}/${name}.h"
    TANDEM_WEIGHTS "${weights_outputs}")
  add_dependencies(${name} tandem_model_${name})
endfunction()
