// An op the tdm dialect does not have.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_unknown_tdm_op.mlir:10:10: unregistered operation 'tdm.frobnicate' found in dialect ('tdm') that does not allow unknown operations

module {
  func.func @main(%x: tensor<2x3xf32> {tdm.name = "x"}) -> (tensor<2x3xf32> {tdm.name = "y"}) {
    %0 = "tdm.frobnicate"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}
