// RUN: tandemc %s --compile-to=linalg --name=m --target-cpu=znver3 --gemm=mlir -o - | FileCheck %s
// RUN: tandemc %s --compile-to=linalg --name=m --target-cpu=znver3 -o - | FileCheck %s --check-prefix=KERNEL
// lower-graph (+ inline): an entry function over memrefs whose body reads inputs
// with to_tensor, weights as views of the weights buffer at 64-byte-aligned blob
// offsets, computes on tensors, and writes each result into its output buffer.

module attributes {tdm.weight_files = ["../models/mlp/model.bin"]} {
  func.func @main(%x: tensor<1x64xf32> {tdm.name = "x"}) -> (tensor<1x128xf32> {tdm.name = "y"}) {
    %w = "tdm.weight"() {file = 0 : i64, name = "fc1.weight", offset = 0 : i64} : () -> tensor<128x64xf32>
    %mm = "tdm.matmul"(%x, %w) {transpose_a = false, transpose_b = true} : (tensor<1x64xf32>, tensor<128x64xf32>) -> tensor<1x128xf32>
    %b = "tdm.weight"() {file = 0 : i64, name = "fc1.bias", offset = 32768 : i64} : () -> tensor<128xf32>
    %y = "tdm.add"(%mm, %b) : (tensor<1x128xf32>, tensor<128xf32>) -> tensor<1x128xf32>
    return %y : tensor<1x128xf32>
  }
}
// With --gemm=mlir: matmul-layout made the weight's transpose explicit; lower-graph
// evaluated it at compile time, and packed W^T [64,128] into column panels
// [128/16, 64, 16] for the contraction (16 floats: two AVX2 registers). The blob holds that (32768
// bytes), then the bias. The original W is never read, so it is not in the blob.
// Each graph op becomes a call to a helper function, kept out of line (no_inline):
// every distinct helper is compiled once however many layers call it.
// CHECK-LABEL: func.func @m_run_impl(
// CHECK-SAME:    %[[W:.*]]: memref<33280xi8>, %[[IN:.*]]: memref<1x64xf32>, %[[OUT:.*]]: memref<1x128xf32>)
// CHECK:         %[[X:.*]] = bufferization.to_tensor %[[IN]] restrict
// CHECK:         memref.view %[[W]][%{{.*}}][] : memref<33280xi8> to memref<8x64x16xf32>
// CHECK:         %[[MM:.*]] = call @[[MATMUL:tdm.matmul.[0-9]+]](%[[X]], %{{.*}}) {no_inline} : (tensor<1x64xf32>, tensor<8x64x16xf32>) -> tensor<1x128xf32>
// CHECK:         memref.view %[[W]][%{{.*}}][] : memref<33280xi8> to memref<128xf32>
// CHECK:         %[[Y:.*]] = call @[[ADD:tdm.add.[0-9]+]](%[[MM]], %{{.*}}) {no_inline}
// CHECK:         bufferization.materialize_in_destination %[[Y]] in restrict writable %[[OUT]]
// CHECK:         return
// The contraction C[m, nb, ni] += A[m, k] * Bp[nb, k, ni], tagged with its tiles
// (1 row, 1 panel, 16 columns) and loop order (panels outermost).
// CHECK:       func.func private @[[MATMUL]](
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:      tdm.contraction = 0 : i64, tdm.interchange = array<i64: 1, 0, 2, 3>, tdm.tiles = array<i64: 1, 1, 16, 1>
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : tensor<1x8x16xf32> into tensor<1x128xf32>
// The bias add broadcasts [128] over [1,128].
// CHECK:       func.func private @[[ADD]](
// CHECK:         linalg.generic
// CHECK:           arith.addf

// By default (--gemm=kernel) the blob holds the same panels, and the matmul is a
// helper on memrefs calling the C micro-kernel tdm_gemm_f32 (M 1, N 128, K 64),
// which writes a new buffer.
// KERNEL-LABEL: func.func @m_run_impl(
// KERNEL-SAME:    %[[W:.*]]: memref<33280xi8>, %[[IN:.*]]: memref<1x64xf32>, %[[OUT:.*]]: memref<1x128xf32>)
// KERNEL:         %[[P:.*]] = memref.view %[[W]][%{{.*}}][] : memref<33280xi8> to memref<32768xi8>
// KERNEL:         %[[Y:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x128xf32>
// KERNEL:         call @[[GEMM:tdm.gemm.[0-9]+]](%[[IN]], %[[P]], %[[Y]]) {no_inline}
// KERNEL:       func.func private @[[GEMM]](
// KERNEL-DAG:     %[[M:.*]] = arith.constant 1 : i64
// KERNEL-DAG:     %[[N:.*]] = arith.constant 128 : i64
// KERNEL-DAG:     %[[K:.*]] = arith.constant 64 : i64
// KERNEL:         call @tdm_gemm_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[M]], %[[N]], %[[K]])
// KERNEL:       func.func private @tdm_gemm_f32(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64)
