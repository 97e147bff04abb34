// A tdm.constant whose value (2 elements) does not match its result type (3).
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_constant_type_mismatch.mlir:10:10: 'tdm.constant' value type differs from its result type

module {
  func.func @main(%a: tensor<3xf32> {tdm.name = "a"}) -> (tensor<3xf32> {tdm.name = "y"}) {
    %c = "tdm.constant"() {value = dense<[1.0, 2.0]> : tensor<2xf32>} : () -> tensor<3xf32>
    %0 = "tdm.add"(%a, %c) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    return %0 : tensor<3xf32>
  }
}
