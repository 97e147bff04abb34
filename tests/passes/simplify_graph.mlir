// RUN: tandemc %s --compile-to=graph -o - | FileCheck %s
// simplify-graph: pow by 2 becomes mul, identity reshapes and dead ops go away.

module {
  func.func @main(%x: tensor<2x4xf32> {tdm.name = "x"}) -> (tensor<2x4xf32> {tdm.name = "y"}) {
    %two = "tdm.constant"() {value = dense<2.0> : tensor<f32>} : () -> tensor<f32>
    %sq = "tdm.pow"(%x, %two) : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
    %same = "tdm.reshape"(%sq) : (tensor<2x4xf32>) -> tensor<2x4xf32>
    %dead = "tdm.exp"(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32>
    return %same : tensor<2x4xf32>
  }
}
// CHECK-LABEL: func.func @main
// CHECK-NEXT:    %[[SQ:.*]] = "tdm.mul"(%arg0, %arg0)
// CHECK-NEXT:    return %[[SQ]]
