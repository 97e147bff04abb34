// tdm.matmul without its transpose_b attribute.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_missing_attr.mlir:10:10: 'tdm.matmul' op attribute "transpose_b" is expected but not provided

module {
  func.func @main(%a: tensor<2x3xf32> {tdm.name = "a"}, %b: tensor<3x4xf32> {tdm.name = "b"}) -> (tensor<2x4xf32> {tdm.name = "y"}) {
    %0 = "tdm.matmul"(%a, %b) {transpose_a = false} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
    return %0 : tensor<2x4xf32>
  }
}
