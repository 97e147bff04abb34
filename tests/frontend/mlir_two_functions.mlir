// A module with two functions that is not a language model (no tdm.llm attribute):
// only an LLM has several entry points (@prefill and @decode).
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_two_functions.mlir: the graph has 2 functions; only a language model (module attribute tdm.llm, with @prefill and @decode) has more than one

module {
  func.func @main(%a: tensor<2x3xf32> {tdm.name = "a"}) -> (tensor<2x3xf32> {tdm.name = "y"}) {
    %0 = "tdm.relu"(%a) : (tensor<2x3xf32>) -> tensor<2x3xf32>
    return %0 : tensor<2x3xf32>
  }
  func.func @other(%a: tensor<2x3xf32>) -> tensor<2x3xf32> {
    return %a : tensor<2x3xf32>
  }
}
