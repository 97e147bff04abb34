// tdm.add of 2x3 and 4 that declares a 2x3 result: verify-graph re-infers it.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_wrong_result_type.mlir:10:10: shapes do not broadcast: f32[2,3] and f32[4]

module {
  func.func @main(%a: tensor<2x3xf32> {tdm.name = "a"}, %b: tensor<4xf32> {tdm.name = "b"}) -> (tensor<2x3xf32> {tdm.name = "y"}) {
    %0 = "tdm.add"(%a, %b) : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}
