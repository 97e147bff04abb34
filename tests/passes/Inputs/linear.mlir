// A linear layer y = x @ W^T + b on the mlp test model's first layer weights.
module attributes {tdm.weight_files = ["../../models/mlp/model.bin"]} {
  func.func @main(%x: tensor<8x64xf32> {tdm.name = "x"}) -> (tensor<8x128xf32> {tdm.name = "y"}) {
    %w = "tdm.weight"() {file = 0 : i64, name = "fc1.weight", offset = 0 : i64} : () -> tensor<128x64xf32>
    %mm = "tdm.matmul"(%x, %w) {transpose_a = false, transpose_b = true} : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
    %b = "tdm.weight"() {file = 0 : i64, name = "fc1.bias", offset = 32768 : i64} : () -> tensor<128xf32>
    %y = "tdm.add"(%mm, %b) : (tensor<8x128xf32>, tensor<128xf32>) -> tensor<8x128xf32>
    return %y : tensor<8x128xf32>
  }
}
