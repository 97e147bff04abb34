// A module with two functions: the message must name the file (it once said only
// 'expected exactly one function in the graph module, found 2').
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_two_functions.mlir:{{[0-9]+:[0-9]+}}: expected exactly one function (the model), found 2

module {
  func.func @main(%a: tensor<2x3xf32> {tdm.name = "a"}) -> (tensor<2x3xf32> {tdm.name = "y"}) {
    %0 = "tdm.relu"(%a) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
  func.func @other(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
    return %a : tensor<2x3xf32>
  }
}
