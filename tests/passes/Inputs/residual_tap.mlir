// Three residual blocks x_{k+1} = x_k + tanh(x_k @ W^T) whose stream value x_1 is also
// an output ("tap"): layers 0 and 1 cannot run as a pair (x_1 would not exist),
// layers 1 and 2 can. Used by layer_parallel_errors.test.
module attributes {tdm.weight_files = ["../../models/mlp/model.bin"]} {
  func.func @main(%x: tensor<4x64xf32> {tdm.name = "x"}) -> (tensor<4x64xf32> {tdm.name = "y"}, tensor<4x64xf32> {tdm.name = "tap"}) {
    %w = "tdm.weight"() {file = 0 : i64, name = "w", offset = 0 : i64} : () -> tensor<64x64xf32>
    %m0 = "tdm.matmul"(%x, %w) {transpose_a = false, transpose_b = true} : (tensor<4x64xf32>, tensor<64x64xf32>) -> tensor<4x64xf32>
    %t0 = "tdm.tanh"(%m0) : (tensor<4x64xf32>) -> tensor<4x64xf32>
    %x1 = "tdm.add"(%x, %t0) : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
    %m1 = "tdm.matmul"(%x1, %w) {transpose_a = false, transpose_b = true} : (tensor<4x64xf32>, tensor<64x64xf32>) -> tensor<4x64xf32>
    %t1 = "tdm.tanh"(%m1) : (tensor<4x64xf32>) -> tensor<4x64xf32>
    %x2 = "tdm.add"(%x1, %t1) : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
    %m2 = "tdm.matmul"(%x2, %w) {transpose_a = false, transpose_b = true} : (tensor<4x64xf32>, tensor<64x64xf32>) -> tensor<4x64xf32>
    %t2 = "tdm.tanh"(%m2) : (tensor<4x64xf32>) -> tensor<4x64xf32>
    %x3 = "tdm.add"(%x2, %t2) : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
    return %x3, %x1 : tensor<4x64xf32>, tensor<4x64xf32>
  }
}
