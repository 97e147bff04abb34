/* tile-and-vectorize: the first half of the transform-dialect schedule
 * (codegen/schedule_cpu.mlir).
 *
 * Requires tensors: contractions are linalg.generic ops carrying `tdm.tiles` and
 * `tdm.interchange` (set by lower-graph). Tiles and vectorises each, then hoists its
 * accumulator tile out of the k loop. Other linalg ops are left for
 * convert-linalg-to-loops and LLVM's loop vectoriser. */
#include <stdlib.h>
#include <string.h>

#include "mlir-c/BuiltinAttributes.h"
#include "codegen/schedule.h"
#include "passes/pass.h"

/* The distinct (tdm.tiles, tdm.interchange) pairs in the module. */
typedef struct tiles_seen {
  MlirAttribute tiles[64], order[64];
  int n;
} tiles_seen;

static MlirWalkResult collect(MlirOperation op, void *user) {
  tiles_seen *seen = user;
  MlirAttribute t = mlirOperationGetAttributeByName(op, tdm_str("tdm.tiles"));
  MlirAttribute o = mlirOperationGetAttributeByName(op, tdm_str("tdm.interchange"));
  if (mlirAttributeIsNull(t) || !mlirAttributeIsADenseI64Array(t) || mlirAttributeIsNull(o) ||
      !mlirAttributeIsADenseI64Array(o))
    return MlirWalkResultAdvance;
  for (int i = 0; i < seen->n; i++)
    if (mlirAttributeEqual(seen->tiles[i], t) && mlirAttributeEqual(seen->order[i], o))
      return MlirWalkResultAdvance;
  if (seen->n < 64) {
    seen->tiles[seen->n] = t;
    seen->order[seen->n++] = o;
  }
  return MlirWalkResultAdvance;
}

static void print_to(MlirStringRef s, void *user) { tdm_sb_put_ref(user, s); }

static void print_array(strbuf *sb, MlirAttribute a) {
  for (intptr_t j = 0; j < mlirDenseArrayGetNumElements(a); j++)
    sb_printf(sb, j ? ", %lld" : "%lld", (long long)mlirDenseI64ArrayGetElement(a, j));
}

/* The entry sequence: tile and vectorise each kind, then clean up and hoist. */
static void write_main(strbuf *sb, const tiles_seen *seen) {
  sb_puts(sb, "  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {\n");
  for (int i = 0; i < seen->n; i++) {
    strbuf t, o;
    sb_init(&t);
    sb_init(&o);
    mlirAttributePrint(seen->tiles[i], print_to, &t);
    mlirAttributePrint(seen->order[i], print_to, &o);
    intptr_t loops = mlirDenseArrayGetNumElements(seen->tiles[i]);
    sb_printf(sb, "    %%m%d = transform.structured.match ops{[\"linalg.generic\"]} attributes "
                  "{tdm.tiles = %s, tdm.interchange = %s} in %%root : (!transform.any_op) -> !transform.any_op\n",
              i, sb_str(&t), sb_str(&o));
    sb_printf(sb, "    %%t%d, %%l%d:%d = transform.structured.tile_using_for %%m%d tile_sizes [", i, i, (int)loops, i);
    print_array(sb, seen->tiles[i]);
    sb_puts(sb, "] interchange = [");
    print_array(sb, seen->order[i]);
    sb_puts(sb, "] : (!transform.any_op) -> (!transform.any_op");
    for (intptr_t j = 0; j < loops; j++) sb_puts(sb, ", !transform.any_op");
    sb_puts(sb, ")\n");
    sb_printf(sb, "    transform.structured.vectorize %%t%d : !transform.any_op\n", i);
    sb_free(&t);
    sb_free(&o);
  }
  sb_puts(sb, "    %fs = transform.structured.match ops{[\"func.func\"]} in %root : (!transform.any_op) -> !transform.any_op\n");
  sb_puts(sb, "    transform.foreach %fs : !transform.any_op {\n    ^bb0(%f: !transform.any_op):\n");
  sb_puts(sb, "      transform.include @tdm_vectorize_cleanup failures(propagate) (%f) : (!transform.any_op) -> ()\n    }\n");
  sb_puts(sb, "    transform.yield\n  }\n");
}

static tdm_status run_tile(MlirOperation module, tdm_session *s) {
  tiles_seen seen = {.n = 0};
  mlirOperationWalk(module, collect, &seen, MlirWalkPreOrder);
  if (seen.n == 0) return NULL;
  strbuf main;
  sb_init(&main);
  write_main(&main, &seen);
  tdm_status st = sb_failed(&main) ? TDM_INTERNAL("out of memory") : cg_schedule_apply(module, s, sb_str(&main), "__transform_main");
  sb_free(&main);
  return st;
}

const tdm_pass_def tdm_tile_and_vectorize_def = {
    "tile-and-vectorize", "Tile and vectorise contractions with the transform dialect", run_tile};

MlirPass tdm_pass_tile_and_vectorize(tdm_session *s) {
  return tdm_pass_create(&tdm_tile_and_vectorize_def, s);
}
