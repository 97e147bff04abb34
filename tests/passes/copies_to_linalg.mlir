// RUN: tandemc %s --compile-to=bufferized --print-ir-after=copies-to-linalg -o /dev/null 2>&1 | FileCheck %s
// copies-to-linalg: bufferization copies the concat's inputs into strided slices of
// the result with memref.copy; those become linalg.copy (and later plain loops)
// instead of calls into MLIR's C runner library.

module {
  func.func @main(%a: tensor<2x3xf32> {tdm.name = "a"}, %b: tensor<2x5xf32> {tdm.name = "b"}) -> (tensor<2x8xf32> {tdm.name = "c"}) {
    %c = "tdm.concat"(%a, %b) {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
    return %c : tensor<2x8xf32>
  }
}
// CHECK: // -----// IR Dump After copies-to-linalg (bufferized) //----- //
// CHECK-NOT: memref.copy
// CHECK: memref.subview %{{.*}}[0, 0] [2, 3] [1, 1]
// CHECK: linalg.copy ins(%{{.*}} : memref<2x3xf32>) outs(%{{.*}} : memref<2x3xf32, strided<[8, 1]>>)
// CHECK: memref.subview %{{.*}}[0, 3] [2, 5] [1, 1]
// CHECK: linalg.copy ins(%{{.*}} : memref<2x5xf32>) outs(%{{.*}} : memref<2x5xf32, strided<[8, 1], offset: 3>>)
// CHECK-NOT: memref.copy
