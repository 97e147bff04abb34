// An op from another dialect in the graph.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_non_tdm_op.mlir:10:10: 'arith.addf' is not a graph op

module {
  func.func @main(%x: tensor<2x3xf32> {tdm.name = "x"}) -> (tensor<2x3xf32> {tdm.name = "y"}) {
    %0 = arith.addf %x, %x : tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}
