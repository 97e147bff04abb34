// A tdm.weight whose file index is not in tdm.weight_files.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_weight_file_index.mlir:10:10: weight file index 0 is out of range (0 files)

module {
  func.func @main(%a: tensor<1x32xf32> {tdm.name = "a"}) -> (tensor<1x32xf32> {tdm.name = "y"}) {
    %0 = "tdm.weight"() {file = 0 : i64, name = "bias", offset = 0 : i64} : () -> tensor<32xf32>
    %1 = "tdm.add"(%a, %0) : (tensor<1x32xf32>, tensor<32xf32>) -> tensor<1x32xf32>
    return %1 : tensor<1x32xf32>
  }
}
