// A module without a function: the message must name the file (it once said only
// 'expected exactly one function in the graph module, found 0').
// RUN: rm -rf %t.d && mkdir %t.d
// RUN: sh %inputs/expect_exit.sh 1 %t.d %t.err tandemc %s -o %t.d/out
// RUN: count 1 < %t.err
// RUN: FileCheck %s < %t.err
// CHECK: tandemc: {{.*}}mlir_no_function.mlir:{{[0-9]+:[0-9]+}}: expected 1 to 8 functions (the model's entry points), found 0

module {
}
