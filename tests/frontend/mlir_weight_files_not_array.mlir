// tdm.weight_files that is not an array.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_weight_files_not_array.mlir: module attribute tdm.weight_files must be an array of paths

module attributes {tdm.weight_files = "/nonexistent/model.bin"} {
  func.func @main(%a: tensor<1x32xf32> {tdm.name = "a"}) -> (tensor<1x32xf32> {tdm.name = "y"}) {
    return %a : tensor<1x32xf32>
  }
}
