// An element type that does not exist at all.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_bad_element_type.mlir:9:34: expected non-function type

module {
  func.func @main(%a: tensor<2x3xfoo> {tdm.name = "a"}) -> (tensor<2x3xfoo> {tdm.name = "y"}) {
    %0 = "tdm.relu"(%a) : (tensor<2x3xfoo>) -> tensor<2x3xfoo>
    return %0 : tensor<2x3xfoo>
  }
}
