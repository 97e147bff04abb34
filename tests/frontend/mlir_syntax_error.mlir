// A syntax error: the result type's '>' is missing (line 11, column 31).
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_syntax_error.mlir:11:31: expected '>' in tensor type

module {
  func.func @main(%x: tensor<2x3xf32> {tdm.name = "x"}) -> (tensor<2x3xf32> {tdm.name = "y"}) {
    %0 = "tdm.relu"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32
  }
}
