// A weight file listed in tdm.weight_files that does not exist.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_weight_file_missing.mlir: weight file 0: /nonexistent/model.bin: cannot open: No such file or directory

module attributes {tdm.weight_files = ["/nonexistent/model.bin"]} {
  func.func @main(%a: tensor<1x32xf32> {tdm.name = "a"}) -> (tensor<1x32xf32> {tdm.name = "y"}) {
    %0 = "tdm.weight"() {file = 0 : i64, name = "bias", offset = 0 : i64} : () -> tensor<32xf32>
    %1 = "tdm.add"(%a, %0) : (tensor<1x32xf32>, tensor<32xf32>) -> tensor<1x32xf32>
    return %1 : tensor<1x32xf32>
  }
}
