// An attribute of the wrong kind: tdm.softmax's axis as a string. The dialect's
// IRDL verifier rejects it while parsing, at the op's line and column; its message
// names the expected and actual kinds but not the attribute (MLIR's wording).
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_attr_wrong_kind.mlir:12:10: expected base attribute 'builtin.integer' but got 'builtin.string'

module {
  func.func @main(%a: tensor<2x3xf32> {tdm.name = "a"}) -> (tensor<2x3xf32> {tdm.name = "y"}) {
    %0 = "tdm.softmax"(%a) {axis = "one"} : (tensor<2x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
}
