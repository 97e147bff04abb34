// A dynamic dimension.
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_dynamic_dim.mlir:9:3: input 0: dimension 0 is dynamic; tandem needs static shapes

module {
  func.func @main(%a: tensor<?x3xf32> {tdm.name = "a"}) -> (tensor<?x3xf32> {tdm.name = "y"}) {
    %0 = "tdm.relu"(%a) : (tensor<?x3xf32>) -> tensor<?x3xf32>
    return %0 : tensor<?x3xf32>
  }
}
