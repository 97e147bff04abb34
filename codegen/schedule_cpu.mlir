// The CPU schedule for contractions, in two sequences the codegen passes apply.
//
// tile-and-vectorize (on tensors) prepends, for each distinct `tdm.tiles` value,
//   %m = match linalg.generic {tdm.tiles = T}; %t = tile_using_for %m T; vectorize %t
// and then runs @tdm_vectorize_cleanup on the function: the vectorised tiles become
// vector.contract, and the accumulator tile is hoisted out of the k loop into loop
// -carried vectors (registers), which only works before bufferization.
// lower-vectors (on memrefs) runs @tdm_lower_vectors: contract -> outer products ->
// FMAs over the host's vector width, transfers -> loads and stores.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @tdm_vectorize_cleanup(%f: !transform.any_op {transform.readonly}) {
    transform.apply_patterns to %f {
      transform.apply_patterns.vector.reduction_to_contract
      transform.apply_patterns.vector.transfer_permutation_patterns
      transform.apply_patterns.tensor.fold_tensor_subset_ops_into_vector_transfers
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    %loops = transform.structured.match ops{["scf.for"]} in %f : (!transform.any_op) -> !transform.any_op
    transform.foreach %loops : !transform.any_op {
    ^bb0(%l: !transform.any_op):
      transform.loop.hoist_loop_invariant_subsets %l : !transform.any_op
    }
    transform.yield
  }

  transform.named_sequence @tdm_lower_vectors(%f: !transform.any_op {transform.readonly}) {
    transform.apply_patterns to %f {
      transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
      transform.apply_patterns.vector.lower_outerproduct
      transform.apply_patterns.vector.transfer_permutation_patterns
      transform.apply_patterns.vector.lower_transfer max_transfer_rank = 1
      transform.apply_patterns.vector.lower_shape_cast
      transform.apply_patterns.vector.lower_transpose lowering_strategy = "eltwise"
      transform.apply_patterns.vector.lower_multi_reduction lowering_strategy = "innerreduction"
      transform.apply_patterns.vector.lower_broadcast
    } : !transform.any_op
    transform.yield
  }

  transform.named_sequence @tdm_lower_vectors_main(%root: !transform.any_op {transform.readonly}) {
    %fs = transform.structured.match ops{["func.func"]} in %root : (!transform.any_op) -> !transform.any_op
    transform.foreach %fs : !transform.any_op {
    ^bb0(%f: !transform.any_op):
      transform.include @tdm_lower_vectors failures(propagate) (%f) : (!transform.any_op) -> ()
    }
    transform.yield
  }
}
