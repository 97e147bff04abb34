// The CPU schedule for contractions, applied by the tile-and-vectorize pass.
//
// tile-and-vectorize prepends, for each distinct `tdm.tiles` value in the module,
//   %m = match linalg.generic {tdm.tiles = T}; %t = tile_using_for %m T; vectorize %t
// and then runs this sequence, @tdm_finish, on the function: contractions become
// vector.contract, the accumulator tile is hoisted out of the k loop so it stays in
// registers, and contract -> outer products -> FMAs over the host's vector width.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @tdm_finish(%f: !transform.any_op {transform.consumed}) {
    transform.apply_patterns to %f {
      transform.apply_patterns.vector.reduction_to_contract
      transform.apply_patterns.vector.transfer_permutation_patterns
      transform.apply_patterns.memref.fold_memref_alias_ops
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    %h = transform.structured.hoist_redundant_vector_transfers %f : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %h {
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
}
