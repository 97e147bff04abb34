// A tdm.weight that runs past the end of its file: mlp's model.bin has 49792 bytes,
// and 32 x f32 from offset 49700 needs 128.
// RUN: rm -rf %t.d %t.in && mkdir %t.d %t.in
// RUN: sed 's|@MODELS@|%models|' %s > %t.in/model.mlir
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %t.in/model.mlir -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}model.mlir:12:10: data at offset 49700, 128 bytes, lies past the end of {{.*}}mlp/model.bin (49792 bytes)

module attributes {tdm.weight_files = ["@MODELS@/mlp/model.bin"]} {
  func.func @main(%a: tensor<1x32xf32> {tdm.name = "a"}) -> (tensor<1x32xf32> {tdm.name = "y"}) {
    %0 = "tdm.weight"() {file = 0 : i64, name = "fc2.bias", offset = 49700 : i64} : () -> tensor<32xf32>
    %1 = "tdm.add"(%a, %0) : (tensor<1x32xf32>, tensor<32xf32>) -> tensor<1x32xf32>
    return %1 : tensor<1x32xf32>
  }
}
