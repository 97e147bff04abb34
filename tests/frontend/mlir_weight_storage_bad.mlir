// A tdm.weight whose storage (the encoding --weights-type gives matrices) cannot hold
// it: q8_0 blocks are 32 elements, and its rows have 16.
// RUN: rm -rf %t.d %t.in && mkdir %t.d %t.in
// RUN: sed 's|@MODELS@|%models|' %s > %t.in/model.mlir
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %t.in/model.mlir -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}model.mlir:12:10: weight storage 'q8_0' is unknown or does not divide rows of 16 elements into blocks

module attributes {tdm.weight_files = ["@MODELS@/mlp/model.bin"]} {
  func.func @main(%a: tensor<2x16xf32> {tdm.name = "a"}) -> (tensor<2x16xf32> {tdm.name = "y"}) {
    %0 = "tdm.weight"() {file = 0 : i64, name = "fc2.bias", offset = 0 : i64, storage = "q8_0"} : () -> tensor<2x16xf32>
    %1 = "tdm.add"(%a, %0) : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
    return %1 : tensor<2x16xf32>
  }
}
