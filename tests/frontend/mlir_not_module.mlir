// The top-level op is a func.func, not a module.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_not_module.mlir: the top-level operation is not a builtin.module

func.func @main(%a: tensor<2x3xf32> {tdm.name = "a"}) -> (tensor<2x3xf32> {tdm.name = "y"}) {
  %0 = "tdm.relu"(%a) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
