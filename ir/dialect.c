/* Loading the tdm dialect, and the locations frontends attach to ops. */
#include <string.h>

#include "mlir-c/BuiltinAttributes.h"

#include "ir/tdm.h"
#include "mlir-c/Dialect/IRDL.h"

extern const char tdm_irdl_source[];        /* ir/tdm.irdl.mlir, embedded */
extern const unsigned long tdm_irdl_source_size;

tdm_status tdm_dialect_load(MlirContext ctx) {
  mlirDialectHandleLoadDialect(mlirGetDialectHandle__irdl__(), ctx);
  MlirStringRef src = {tdm_irdl_source, tdm_irdl_source_size};
  MlirModule defs = mlirModuleCreateParse(ctx, src);
  if (mlirModuleIsNull(defs)) return TDM_INTERNAL("the embedded tdm dialect does not parse");
  MlirLogicalResult r = mlirLoadIRDLDialects(defs);
  /* The loaded dialect keeps its own copy of the constraints. */
  mlirModuleDestroy(defs);
  if (mlirLogicalResultIsFailure(r)) return TDM_INTERNAL("the tdm dialect failed to load");
  return NULL;
}

MlirLocation tdm_loc_layer(MlirContext ctx, const char *file, unsigned line,
                           const char *layer_name, const char *layer_id) {
  MlirLocation child = mlirLocationFileLineColGet(ctx, tdm_str(file), line, 0);
  strbuf sb;
  sb_init(&sb);
  sb_printf(&sb, "layer '%s' (id %s)", layer_name, layer_id);
  MlirLocation loc = mlirLocationNameGet(ctx, tdm_str(sb_str(&sb)), child);
  sb_free(&sb);
  return loc;
}

static void describe_file_loc(MlirLocation loc, strbuf *sb, int with_line) {
  tdm_sb_put_ref(sb, mlirIdentifierStr(mlirLocationFileLineColRangeGetFilename(loc)));
  if (with_line)
    sb_printf(sb, ":%d:%d", mlirLocationFileLineColRangeGetStartLine(loc),
              mlirLocationFileLineColRangeGetStartColumn(loc));
}

void tdm_loc_describe(MlirLocation loc, strbuf *sb) {
  if (mlirLocationIsACallSite(loc)) loc = mlirLocationCallSiteGetCallee(loc);
  if (mlirLocationIsAFused(loc) && mlirLocationFusedGetNumLocations(loc) > 0) {
    MlirLocation first[1];
    if (mlirLocationFusedGetNumLocations(loc) == 1) {
      mlirLocationFusedGetLocations(loc, first);
      loc = first[0];
    }
  }
  if (mlirLocationIsAName(loc)) {
    MlirLocation child = mlirLocationNameGetChildLoc(loc);
    if (mlirLocationIsAFileLineColRange(child)) {
      describe_file_loc(child, sb, 0);
      sb_puts(sb, ": ");
    }
    tdm_sb_put_ref(sb, mlirIdentifierStr(mlirLocationNameGetName(loc)));
    return;
  }
  if (mlirLocationIsAFileLineColRange(loc)) {
    describe_file_loc(loc, sb, 1);
    return;
  }
  sb_puts(sb, "<unknown location>");
}

tdm_status tdm_op_error(MlirOperation op, tdm_status st) {
  if (!st) return NULL;
  strbuf sb;
  sb_init(&sb);
  tdm_loc_describe(mlirOperationGetLocation(op), &sb);
  st = tdm_status_wrap(st, "%s", sb_str(&sb));
  sb_free(&sb);
  return st;
}

int tdm_graph_blocks(MlirOperation module, MlirBlock *out, int max) {
  int n = 0;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op) && n < max;
       op = mlirOperationGetNextInBlock(op)) {
    MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
    if (name.length == 9 && memcmp(name.data, "func.func", 9) == 0)
      out[n++] = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
  }
  return n;
}

int tdm_graph_functions(MlirOperation module, MlirBlock *blocks, const char **names, int max) {
  int n = 0;
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  for (MlirOperation op = mlirBlockGetFirstOperation(body); !mlirOperationIsNull(op) && n < max;
       op = mlirOperationGetNextInBlock(op)) {
    MlirStringRef name = mlirIdentifierStr(mlirOperationGetName(op));
    if (name.length != 9 || memcmp(name.data, "func.func", 9) != 0) continue;
    MlirAttribute sym = mlirOperationGetAttributeByName(op, tdm_str("sym_name"));
    blocks[n] = mlirRegionGetFirstBlock(mlirOperationGetRegion(op, 0));
    names[n++] = mlirAttributeIsAString(sym) ? mlirStringAttrGetValue(sym).data : "?";
  }
  return n;
}

const char *tdm_weight_encoding(MlirOperation op) {
  MlirAttribute e = mlirOperationGetAttributeByName(op, tdm_str("encoding"));
  if (mlirAttributeIsNull(e) || !mlirAttributeIsAString(e)) return NULL;
  MlirStringRef r = mlirStringAttrGetValue(e);
  return r.length ? r.data : ""; /* MLIR keeps attribute strings NUL-terminated */
}

const char *tdm_weight_storage(MlirOperation op) {
  MlirAttribute e = mlirOperationGetAttributeByName(op, tdm_str("storage"));
  if (mlirAttributeIsNull(e) || !mlirAttributeIsAString(e)) return tdm_weight_encoding(op);
  MlirStringRef r = mlirStringAttrGetValue(e);
  return r.length ? r.data : "";
}

int tdm_weight_is_blocked(MlirOperation op) {
  const char *st = tdm_weight_storage(op);
  static const char *const blocked[] = {"q8_0", "q4_0", "q4_1", "f16", "bf16"};
  int known = 0;
  for (size_t i = 0; st && i < sizeof blocked / sizeof blocked[0]; i++) known |= strcmp(st, blocked[i]) == 0;
  if (!known) return 0;
  tdm_type t;
  tdm_status err = tdm_type_from_mlir(mlirValueGetType(mlirOperationGetResult(op, 0)), &t);
  if (err) {
    tdm_status_free(err);
    return 0;
  }
  return t.dtype == TANDEM_DTYPE_F32 && t.shape.rank == 2 && t.shape.dim[1] % 32 == 0 && t.shape.dim[0] > 0;
}

uint64_t tdm_encoding_bytes(const char *enc, int64_t numel) {
  static const struct { const char *name; int64_t block, bytes; } table[] = {
      {"q4_0", 32, 18}, {"q4_1", 32, 20}, {"q8_0", 32, 34}, {"f16", 1, 2}, {"bf16", 1, 2}, {"f32", 1, 4},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(enc, table[i].name) == 0)
      return numel % table[i].block ? 0 : (uint64_t)(numel / table[i].block * table[i].bytes);
  return 0;
}
