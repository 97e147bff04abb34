// tdm.weight_files listing the same file twice.
// RUN: rm -rf %t.d %t.in && mkdir %t.d %t.in
// RUN: sed 's|@MODELS@|%models|g' %s > %t.in/model.mlir
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %t.in/model.mlir -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}model.mlir: tdm.weight_files lists a file twice

module attributes {tdm.weight_files = ["@MODELS@/mlp/model.bin", "@MODELS@/mlp/model.bin"]} {
  func.func @main(%a: tensor<1x32xf32> {tdm.name = "a"}) -> (tensor<1x32xf32> {tdm.name = "y"}) {
    return %a : tensor<1x32xf32>
  }
}
