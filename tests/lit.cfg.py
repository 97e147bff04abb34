# lit configuration for tandem's FileCheck tests.
#
# Test files carry their own RUN: lines (MLIR's test/ convention): tests/passes/*.mlir
# check the IR after each pass; tests/frontend/ checks what the importer builds and
# every bad-input message. CTest runs them (tests/lit/CMakeLists.txt); by hand:
#   lit -sv --param tandem_bin_dir=build/bin --param exec_root=build/lit tests/passes
import os
import sys
import lit.formats

config.name = "tandem"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".xml", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["lit", "models", "runtime", "e2e", "openvino", "tools", "Inputs",
                   "CMakeLists.txt", "lit.cfg.py"]

bin_dir = os.path.abspath(lit_config.params.get("tandem_bin_dir", "build/bin"))
llvm_tools = lit_config.params.get("llvm_tools_dir", "/usr/lib/llvm-22/bin")
config.test_exec_root = os.path.abspath(lit_config.params.get("exec_root", os.path.join(bin_dir, "..", "lit")))

root = os.path.dirname(config.test_source_root)
config.substitutions.append(("%tandem_include", os.path.join(root, "include")))
config.substitutions.append(("%tandem_lib", os.path.abspath(lit_config.params.get("tandem_lib_dir", os.path.join(bin_dir, "..", "lib")))))
config.environment["PATH"] = os.pathsep.join([bin_dir, llvm_tools, os.environ.get("PATH", "")])
# tandemc's linker (a sanitized build's ctest sets it: cmake/TandemSanitize.cmake), and
# %cc, the C compiler driver that tests link the runtime's archives with.
for var in ("TANDEM_CC", "TANDEM_RUNTIME_DIR"):
    if os.environ.get(var):
        config.environment[var] = os.environ[var]
config.substitutions.append(("%cc", os.environ.get("TANDEM_CC") or "cc"))
config.substitutions.append(("%models", os.path.join(config.test_source_root, "models")))
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "frontend", "Inputs")))
