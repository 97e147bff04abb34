// A tdm op whose declared result differs from what its operands give.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_result_mismatch.mlir:10:10: 'tdm.add' result is f32[3,2] but the operands give f32[2,3]

module {
  func.func @main(%a: tensor<2x3xf32> {tdm.name = "a"}) -> (tensor<3x2xf32> {tdm.name = "y"}) {
    %0 = "tdm.add"(%a, %a) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<3x2xf32>
    return %0 : tensor<3x2xf32>
  }
}
