// An element type tandem does not support (f64).
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_unknown_element_type.mlir:9:3: input 0: unsupported element type{{.*}}

module {
  func.func @main(%a: tensor<2x3xf64> {tdm.name = "a"}) -> (tensor<2x3xf64> {tdm.name = "y"}) {
    %0 = "tdm.relu"(%a) : (tensor<2x3xf64>) -> tensor<2x3xf64>
    return %0 : tensor<2x3xf64>
  }
}
