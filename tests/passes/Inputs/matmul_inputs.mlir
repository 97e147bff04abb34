// A matmul of two activations (nothing to pack at compile time).
module {
  func.func @main(%a: tensor<8x64xf32> {tdm.name = "a"}, %b: tensor<64x128xf32> {tdm.name = "b"}) -> (tensor<8x128xf32> {tdm.name = "c"}) {
    %c = "tdm.matmul"(%a, %b) {transpose_a = false, transpose_b = false} : (tensor<8x64xf32>, tensor<64x128xf32>) -> tensor<8x128xf32>
    return %c : tensor<8x128xf32>
  }
}
