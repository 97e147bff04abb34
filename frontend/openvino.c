/* OpenVINO IR importer: model.xml (libxml2) + model.bin -> a tdm graph.
 *
 * The XML lists layers with typed, shaped ports and the edges between them. We
 * read every layer, order them topologically, and translate each into tdm ops in
 * that order, checking that what we compute matches the shapes and precisions the
 * file declares. Parameters become the function's arguments and Results its
 * results, both in document order (the order OpenVINO's model.inputs/outputs use).
 *
 * Consts are not turned into ops until something consumes them as data: shape-like
 * inputs (Reshape's target shape, Transpose's order, reduction axes...) are read
 * straight from model.bin at import time, since tandem compiles static shapes.
 * Data consts become `tdm.weight` ops that point into model.bin (or `tdm.constant`
 * when tiny); weights are never copied here.
 *
 * Every error names the file and the layer: "model.xml: layer 'fc1' (id 7): ...". */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "frontend/frontend.h"
#include "mlir-c/BuiltinAttributes.h"
#include "mlir-c/BuiltinTypes.h"

#define MAX_PORTS 64
/* Consts with at most this many elements are inlined as tdm.constant. */
#define INLINE_CONST_MAX 16

typedef struct ov_port {
  int id;
  tdm_type type;       /* dtype -1 when the port has no precision */
  int dynamic;         /* a dim was -1 or a range */
  const char *names;   /* tensor names (output ports), or NULL */
} ov_port;

typedef struct ov_layer {
  xmlNodePtr node, data;
  const char *id, *name, *type, *version;
  long id_num;
  int line;
  ov_port *in, *out;
  int nin, nout;
  /* import state */
  MlirValue *values;   /* one per output port; null until built */
  int indegree, done;
  /* Const: where its bytes are */
  int is_const;
  tdm_type const_type;
  const uint8_t *const_data;
  uint64_t const_offset, const_size;
} ov_layer;

typedef struct ov_edge {
  int from, from_port; /* layer index, output port index */
  int to, to_port;     /* layer index, input port index */
} ov_edge;

typedef struct importer {
  tdm_session *session;
  const char *xml_path, *bin_path;
  int bin_file; /* index in the session's weight files, -1 if not opened */
  xmlDocPtr doc;
  ov_layer *layers;
  int nlayers;
  ov_edge *edges;
  int nedges;
  int ir_version;
  MlirBlock body;
  MlirContext ctx;
} importer;

/* ---- Errors --------------------------------------------------------------------- */

static tdm_status layer_error(importer *im, const ov_layer *l, const char *fmt, ...)
    TDM_PRINTF(3, 4);

static tdm_status layer_error(importer *im, const ov_layer *l, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return TDM_BAD("%s: layer '%s' (id %s): %s", im->xml_path, l->name, l->id, msg);
}

static tdm_status wrap_layer(importer *im, const ov_layer *l, tdm_status st) {
  if (!st) return NULL;
  return tdm_status_wrap(st, "%s: layer '%s' (id %s)", im->xml_path, l->name, l->id);
}

/* ---- Small XML helpers ----------------------------------------------------------- */

static const char *attr(xmlNodePtr n, const char *name) {
  /* Attribute values live as long as the document; libxml2 keeps them as text
   * children of the attribute node. */
  for (xmlAttrPtr a = n ? n->properties : NULL; a; a = a->next)
    if (strcmp((const char *)a->name, name) == 0)
      return a->children && a->children->content ? (const char *)a->children->content : "";
  return NULL;
}

static xmlNodePtr child(xmlNodePtr n, const char *name) {
  for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0) return c;
  return NULL;
}

static int parse_long(const char *s, long *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  while (isspace((unsigned char)*end)) end++;
  if (errno || *end) return 0;
  *out = v;
  return 1;
}

static int parse_double(const char *s, double *out) {
  if (!s || !*s) return 0;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  while (isspace((unsigned char)*end)) end++;
  if (errno == ERANGE && v != 0) return 0;
  if (*end) return 0;
  *out = v;
  return 1;
}

/* OpenVINO writes precisions and element types in several spellings. */
static int dtype_from_ov(const char *s) {
  static const struct { const char *name; int dtype; } map[] = {
      {"f32", TANDEM_DTYPE_F32}, {"fp32", TANDEM_DTYPE_F32},   {"f16", TANDEM_DTYPE_F16},
      {"fp16", TANDEM_DTYPE_F16}, {"bf16", TANDEM_DTYPE_BF16}, {"i8", TANDEM_DTYPE_I8},
      {"u8", TANDEM_DTYPE_U8},   {"i32", TANDEM_DTYPE_I32},   {"i64", TANDEM_DTYPE_I64},
      {"boolean", TANDEM_DTYPE_BOOL}, {"bool", TANDEM_DTYPE_BOOL},
  };
  if (!s) return -1;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcasecmp(s, map[i].name) == 0) return map[i].dtype;
  return -1;
}

/* "1,16" -> [1,16]; "" -> scalar. Sets *dynamic for "?", "-1" or "1..10". */
static int parse_shape(const char *s, tdm_shape *out, int *dynamic) {
  out->rank = 0;
  *dynamic = 0;
  while (s && *s) {
    while (isspace((unsigned char)*s)) s++;
    if (!*s) break;
    if (out->rank == TDM_MAX_RANK) return 0;
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    char tok[64];
    if (len >= sizeof tok) return 0;
    memcpy(tok, s, len);
    tok[len] = 0;
    long v;
    if (strchr(tok, '?') || strstr(tok, "..")) *dynamic = 1, v = -1;
    else if (!parse_long(tok, &v)) return 0;
    if (v < 0) *dynamic = 1;
    out->dim[out->rank++] = v;
    s = comma ? comma + 1 : NULL;
  }
  return 1;
}

/* ---- Reading the XML -------------------------------------------------------------- */

static tdm_status read_port(importer *im, ov_layer *l, xmlNodePtr pn, ov_port *p) {
  long id;
  if (!parse_long(attr(pn, "id"), &id)) return layer_error(im, l, "a port has no valid id");
  p->id = (int)id;
  p->names = attr(pn, "names");
  const char *prec = attr(pn, "precision");
  p->type.dtype = prec ? dtype_from_ov(prec) : -1;
  if (prec && p->type.dtype < 0)
    return layer_error(im, l, "port %ld: unsupported precision '%s'", id, prec);
  p->type.shape.rank = 0;
  for (xmlNodePtr d = pn->children; d; d = d->next) {
    if (d->type != XML_ELEMENT_NODE || strcmp((const char *)d->name, "dim") != 0) continue;
    if (p->type.shape.rank == TDM_MAX_RANK)
      return layer_error(im, l, "port %ld: rank exceeds %d", id, TDM_MAX_RANK);
    xmlChar *txt = xmlNodeGetContent(d);
    long v = 0;
    int ok = parse_long((const char *)txt, &v);
    if (!ok && txt && (strchr((char *)txt, '?') || strstr((char *)txt, ".."))) ok = 1, v = -1;
    xmlFree(txt);
    if (!ok) return layer_error(im, l, "port %ld: a dim is not an integer", id);
    if (v < 0) p->dynamic = 1;
    p->type.shape.dim[p->type.shape.rank++] = v;
  }
  return NULL;
}

static tdm_status read_ports(importer *im, ov_layer *l, const char *which, ov_port **out,
                             int *n) {
  xmlNodePtr group = child(l->node, which);
  *n = 0;
  *out = calloc(MAX_PORTS, sizeof(ov_port));
  if (!*out) return TDM_INTERNAL("out of memory");
  for (xmlNodePtr c = group ? group->children : NULL; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "port") != 0) continue;
    if (*n == MAX_PORTS) return layer_error(im, l, "more than %d %s ports", MAX_PORTS, which);
    TDM_TRY(read_port(im, l, c, &(*out)[(*n)++]));
  }
  return NULL;
}

static int cmp_layer_id(const void *a, const void *b) {
  long x = ((const ov_layer *)a)->id_num, y = ((const ov_layer *)b)->id_num;
  return (x > y) - (x < y);
}

static int find_layer(importer *im, long id) {
  int lo = 0, hi = im->nlayers - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (im->layers[mid].id_num == id) return mid;
    if (im->layers[mid].id_num < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

static tdm_status read_layers(importer *im, xmlNodePtr layers_node) {
  int cap = 0;
  for (xmlNodePtr c = layers_node->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "layer") == 0) cap++;
  im->layers = calloc((size_t)cap + 1, sizeof(ov_layer));
  if (!im->layers) return TDM_INTERNAL("out of memory");
  for (xmlNodePtr c = layers_node->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "layer") != 0) continue;
    ov_layer *l = &im->layers[im->nlayers++];
    l->node = c;
    l->line = (int)xmlGetLineNo(c);
    l->id = attr(c, "id");
    l->name = attr(c, "name");
    l->type = attr(c, "type");
    l->version = attr(c, "version");
    if (!l->id) l->id = "?";
    if (!l->name) l->name = "?";
    if (!parse_long(l->id, &l->id_num))
      return TDM_BAD("%s:%d: a layer has no valid id", im->xml_path, l->line);
    if (!l->type) return layer_error(im, l, "no type attribute");
    if (!l->version) l->version = "opset1";
    l->data = child(c, "data");
    TDM_TRY(read_ports(im, l, "input", &l->in, &l->nin));
    TDM_TRY(read_ports(im, l, "output", &l->out, &l->nout));
    l->values = calloc((size_t)l->nout + 1, sizeof(MlirValue));
    if (!l->values) return TDM_INTERNAL("out of memory");
  }
  qsort(im->layers, (size_t)im->nlayers, sizeof(ov_layer), cmp_layer_id);
  for (int i = 1; i < im->nlayers; i++)
    if (im->layers[i].id_num == im->layers[i - 1].id_num)
      return layer_error(im, &im->layers[i], "another layer has the same id");
  return NULL;
}

static int port_index(const ov_port *ports, int n, long id) {
  for (int i = 0; i < n; i++)
    if (ports[i].id == id) return i;
  return -1;
}

static tdm_status read_edges(importer *im, xmlNodePtr edges_node) {
  int cap = 0;
  for (xmlNodePtr c = edges_node ? edges_node->children : NULL; c; c = c->next) cap++;
  im->edges = calloc((size_t)cap + 1, sizeof(ov_edge));
  if (!im->edges) return TDM_INTERNAL("out of memory");
  for (xmlNodePtr c = edges_node ? edges_node->children : NULL; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "edge") != 0) continue;
    long fl, fp, tl, tp;
    int line = (int)xmlGetLineNo(c);
    if (!parse_long(attr(c, "from-layer"), &fl) || !parse_long(attr(c, "from-port"), &fp) ||
        !parse_long(attr(c, "to-layer"), &tl) || !parse_long(attr(c, "to-port"), &tp))
      return TDM_BAD("%s:%d: edge is missing from-layer/from-port/to-layer/to-port",
                     im->xml_path, line);
    ov_edge e;
    e.from = find_layer(im, fl);
    e.to = find_layer(im, tl);
    if (e.from < 0 || e.to < 0)
      return TDM_BAD("%s:%d: edge refers to layer %ld, which does not exist", im->xml_path,
                     line, e.from < 0 ? fl : tl);
    ov_layer *from = &im->layers[e.from], *to = &im->layers[e.to];
    e.from_port = port_index(from->out, from->nout, fp);
    e.to_port = port_index(to->in, to->nin, tp);
    if (e.from_port < 0) return layer_error(im, from, "edge from output port %ld, which it does not have", fp);
    if (e.to_port < 0) return layer_error(im, to, "edge into input port %ld, which it does not have", tp);
    for (int i = 0; i < im->nedges; i++)
      if (im->edges[i].to == e.to && im->edges[i].to_port == e.to_port)
        return layer_error(im, to, "input port %ld has two incoming edges", tp);
    im->edges[im->nedges++] = e;
  }
  return NULL;
}

/* ---- Attributes ---------------------------------------------------------------- */

/* Every <data> attribute must be one the op's translation reads. */
static tdm_status check_known_attrs(importer *im, ov_layer *l, const char *const *known) {
  for (xmlAttrPtr a = l->data ? l->data->properties : NULL; a; a = a->next) {
    int ok = 0;
    for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, (const char *)a->name) == 0;
    if (!ok) return layer_error(im, l, "unknown attribute '%s' for %s", (const char *)a->name, l->type);
  }
  return NULL;
}

static tdm_status attr_bool(importer *im, ov_layer *l, const char *name, int dflt, int *out) {
  const char *v = attr(l->data, name);
  *out = dflt;
  if (!v) return NULL;
  if (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0) *out = 1;
  else if (strcasecmp(v, "false") == 0 || strcmp(v, "0") == 0) *out = 0;
  else return layer_error(im, l, "attribute %s='%s' is not a boolean", name, v);
  return NULL;
}

static tdm_status attr_int(importer *im, ov_layer *l, const char *name, long dflt, int required,
                           long *out) {
  const char *v = attr(l->data, name);
  *out = dflt;
  if (!v) return required ? layer_error(im, l, "missing attribute '%s'", name) : NULL;
  if (!parse_long(v, out)) return layer_error(im, l, "attribute %s='%s' is not an integer", name, v);
  return NULL;
}

static tdm_status attr_float(importer *im, ov_layer *l, const char *name, int required,
                             double *out) {
  const char *v = attr(l->data, name);
  if (!v) return required ? layer_error(im, l, "missing attribute '%s'", name) : NULL;
  if (!parse_double(v, out) || *out != *out)
    return layer_error(im, l, "attribute %s='%s' is not a number", name, v);
  return NULL;
}

static tdm_status check_broadcast_attr(importer *im, ov_layer *l) {
  const char *b = attr(l->data, "auto_broadcast");
  if (b && strcasecmp(b, "numpy") != 0 && strcasecmp(b, "none") != 0)
    return layer_error(im, l, "auto_broadcast='%s' is not supported (numpy and none are)", b);
  return NULL;
}

/* ---- Values ----------------------------------------------------------------------- */

static const ov_edge *edge_into(importer *im, int layer, int port) {
  for (int i = 0; i < im->nedges; i++)
    if (im->edges[i].to == layer && im->edges[i].to_port == port) return &im->edges[i];
  return NULL;
}

static int layer_index(importer *im, const ov_layer *l) { return (int)(l - im->layers); }

static MlirLocation loc_of(importer *im, const ov_layer *l) {
  return tdm_loc_layer(im->ctx, im->xml_path, (unsigned)l->line, l->name, l->id);
}

/* The Const layer feeding input `port`, or NULL if that input is not a Const. */
static ov_layer *const_input(importer *im, ov_layer *l, int port) {
  const ov_edge *e = edge_into(im, layer_index(im, l), port);
  return e && im->layers[e->from].is_const ? &im->layers[e->from] : NULL;
}

/* Materialises a Const as a value the first time it is used as data. */
static tdm_status const_value(importer *im, ov_layer *c, MlirValue *out) {
  if (!mlirValueIsNull(c->values[0])) {
    *out = c->values[0];
    return NULL;
  }
  int64_t n;
  TDM_TRY(tdm_shape_numel(&c->const_type.shape, &n));
  tdm_attrs a = {0};
  tdm_type t = c->const_type;
  tdm_op_kind kind = TDM_OP_WEIGHT;
  if (n <= INLINE_CONST_MAX && c->const_type.dtype != TANDEM_DTYPE_BOOL) {
    kind = TDM_OP_CONSTANT;
    a.value = mlirDenseElementsAttrRawBufferGet(tdm_type_to_mlir(im->ctx, &t),
                                                (size_t)c->const_size, c->const_data);
    if (mlirAttributeIsNull(a.value)) return layer_error(im, c, "constant data is malformed");
  } else {
    a.name = c->name;
    a.file = im->bin_file;
    a.offset = (int64_t)c->const_offset;
  }
  TDM_TRY(wrap_layer(im, c, tdm_build(im->body, loc_of(im, c), kind, NULL, 0, &a, &t, out)));
  c->values[0] = *out;
  return NULL;
}

/* What flows into an input port must be what the port declares. */
static tdm_status check_input_port(importer *im, ov_layer *l, int port, MlirValue v) {
  tdm_type got;
  TDM_TRY(wrap_layer(im, l, tdm_type_from_mlir(mlirValueGetType(v), &got)));
  const ov_port *p = &l->in[port];
  if (tdm_shape_equal(&got.shape, &p->type.shape) && (p->type.dtype < 0 || p->type.dtype == got.dtype))
    return NULL;
  strbuf a, b;
  sb_init(&a);
  sb_init(&b);
  tdm_type declared = p->type;
  if (declared.dtype < 0) declared.dtype = got.dtype;
  tdm_type_print(&declared, &a);
  tdm_type_print(&got, &b);
  tdm_status st = layer_error(im, l, "input port %d is declared %s but receives %s", p->id, sb_str(&a), sb_str(&b));
  sb_free(&a);
  sb_free(&b);
  return st;
}

static tdm_status input_value(importer *im, ov_layer *l, int port, MlirValue *out) {
  const ov_edge *e = edge_into(im, layer_index(im, l), port);
  if (!e) return layer_error(im, l, "input port %d is not connected", l->in[port].id);
  ov_layer *from = &im->layers[e->from];
  if (from->is_const) TDM_TRY(const_value(im, from, out));
  else *out = from->values[e->from_port];
  if (mlirValueIsNull(*out)) return layer_error(im, l, "input port %d has no value", l->in[port].id);
  return check_input_port(im, l, port, *out);
}

static tdm_status value_type(MlirValue v, tdm_type *t) { return tdm_type_from_mlir(mlirValueGetType(v), t); }

/* Reads an integer Const (i32/i64/i8/u8) feeding `port` into `vals`. */
static tdm_status const_ints(importer *im, ov_layer *l, int port, int64_t *vals, int max,
                             int *n) {
  ov_layer *c = const_input(im, l, port);
  if (!c) return layer_error(im, l, "input %d must be a constant (static shapes)", port);
  int64_t count;
  TDM_TRY(tdm_shape_numel(&c->const_type.shape, &count));
  if (count > max) return layer_error(im, l, "input %d has too many values (%lld)", port, (long long)count);
  for (int64_t i = 0; i < count; i++) {
    const uint8_t *p = c->const_data;
    switch (c->const_type.dtype) {
      case TANDEM_DTYPE_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); vals[i] = v; break; }
      case TANDEM_DTYPE_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); vals[i] = v; break; }
      case TANDEM_DTYPE_I8: vals[i] = (int8_t)p[i]; break;
      case TANDEM_DTYPE_U8: vals[i] = p[i]; break;
      default: return layer_error(im, l, "input %d must be an integer constant", port);
    }
  }
  *n = (int)count;
  return NULL;
}

static tdm_status const_scalar_float(importer *im, ov_layer *l, int port, double *out) {
  ov_layer *c = const_input(im, l, port);
  int64_t count = 0;
  if (c) TDM_TRY(tdm_shape_numel(&c->const_type.shape, &count));
  if (!c || count != 1) return layer_error(im, l, "input %d must be a scalar constant", port);
  const uint8_t *p = c->const_data;
  uint16_t h;
  switch (c->const_type.dtype) {
    case TANDEM_DTYPE_F32: { float f; memcpy(&f, p, 4); *out = f; return NULL; }
    case TANDEM_DTYPE_F16: memcpy(&h, p, 2); *out = tdm_f16_to_f32(h); return NULL;
    case TANDEM_DTYPE_BF16: memcpy(&h, p, 2); *out = tdm_bf16_to_f32(h); return NULL;
    default: return layer_error(im, l, "input %d must be a floating-point constant", port);
  }
}

/* Normalises axes into [0, rank), sorted and unique. */
static tdm_status normalize_axes(importer *im, ov_layer *l, int64_t *axes, int n, int rank) {
  for (int i = 0; i < n; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank)
      return layer_error(im, l, "axis %lld is out of range for rank %d", (long long)axes[i], rank);
    axes[i] = a;
  }
  for (int i = 1; i < n; i++) /* insertion sort: n <= 8 */
    for (int j = i; j > 0 && axes[j - 1] > axes[j]; j--) {
      int64_t t = axes[j]; axes[j] = axes[j - 1]; axes[j - 1] = t;
    }
  for (int i = 1; i < n; i++)
    if (axes[i] == axes[i - 1]) return layer_error(im, l, "axis %lld is repeated", (long long)axes[i]);
  return NULL;
}

/* ---- Translating one layer ---------------------------------------------------------- */

typedef tdm_status (*translate_fn)(importer *im, ov_layer *l, MlirValue *out);

static tdm_status build(importer *im, ov_layer *l, tdm_op_kind kind, const MlirValue *ops,
                        int n, const tdm_attrs *a, tdm_type *t, MlirValue *out) {
  return wrap_layer(im, l, tdm_build(im->body, loc_of(im, l), kind, ops, n, a, t, out));
}

static tdm_status inputs(importer *im, ov_layer *l, int n, MlirValue *vals) {
  if (l->nin != n) return layer_error(im, l, "%s takes %d input(s), the layer has %d", l->type, n, l->nin);
  for (int i = 0; i < n; i++) TDM_TRY(input_value(im, l, i, &vals[i]));
  return NULL;
}

static tdm_status tr_binary(importer *im, ov_layer *l, MlirValue *out) {
  static const struct { const char *type; tdm_op_kind kind; } map[] = {
      {"Add", TDM_OP_ADD}, {"Subtract", TDM_OP_SUB}, {"Multiply", TDM_OP_MUL},
      {"Divide", TDM_OP_DIV}, {"Power", TDM_OP_POW}, {"Maximum", TDM_OP_MAX},
      {"Minimum", TDM_OP_MIN},
  };
  static const char *const known[] = {"auto_broadcast", "m_pythondiv", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  TDM_TRY(check_broadcast_attr(im, l));
  tdm_op_kind kind = TDM_OP_NONE;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcasecmp(map[i].type, l->type) == 0) kind = map[i].kind;
  int pythondiv;
  TDM_TRY(attr_bool(im, l, "m_pythondiv", 1, &pythondiv));
  MlirValue v[2];
  TDM_TRY(inputs(im, l, 2, v));
  tdm_type a, b, t;
  TDM_TRY(value_type(v[0], &a));
  TDM_TRY(value_type(v[1], &b));
  if (kind == TDM_OP_DIV && !pythondiv && tdm_dtype_is_int(a.dtype))
    return layer_error(im, l, "integer Divide with m_pythondiv=false is not supported");
  const char *bc = attr(l->data, "auto_broadcast");
  if (bc && strcasecmp(bc, "none") == 0 && !tdm_type_equal(&a, &b))
    return layer_error(im, l, "auto_broadcast='none' but the input shapes differ");
  tdm_attrs at = {0};
  return build(im, l, kind, v, 2, &at, &t, out);
}

static tdm_status tr_unary(importer *im, ov_layer *l, MlirValue *out) {
  static const struct { const char *type; tdm_op_kind kind; } map[] = {
      {"Relu", TDM_OP_RELU}, {"Sigmoid", TDM_OP_SIGMOID}, {"Tanh", TDM_OP_TANH},
      {"Exp", TDM_OP_EXP},   {"Sqrt", TDM_OP_SQRT},
  };
  static const char *const known[] = {NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  tdm_op_kind kind = TDM_OP_NONE;
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcasecmp(map[i].type, l->type) == 0) kind = map[i].kind;
  MlirValue v;
  TDM_TRY(inputs(im, l, 1, &v));
  tdm_type t;
  tdm_attrs at = {0};
  return build(im, l, kind, &v, 1, &at, &t, out);
}

static tdm_status tr_gelu(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {"approximation_mode", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  const char *mode = attr(l->data, "approximation_mode");
  tdm_attrs at = {0};
  at.approximation = "erf";
  if (mode && strcasecmp(mode, "tanh") == 0) at.approximation = "tanh";
  else if (mode && strcasecmp(mode, "erf") != 0)
    return layer_error(im, l, "approximation_mode='%s' is neither ERF nor TANH", mode);
  MlirValue v;
  TDM_TRY(inputs(im, l, 1, &v));
  tdm_type t;
  return build(im, l, TDM_OP_GELU, &v, 1, &at, &t, out);
}

static tdm_status tr_swish(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  if (l->nin != 1 && l->nin != 2) return layer_error(im, l, "Swish takes 1 or 2 inputs");
  tdm_attrs at = {0};
  at.beta = 1.0;
  if (l->nin == 2) TDM_TRY(const_scalar_float(im, l, 1, &at.beta));
  MlirValue v;
  TDM_TRY(input_value(im, l, 0, &v));
  tdm_type t;
  return build(im, l, TDM_OP_SWISH, &v, 1, &at, &t, out);
}

static tdm_status tr_clamp(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {"min", "max", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  tdm_attrs at = {0};
  TDM_TRY(attr_float(im, l, "min", 1, &at.min));
  TDM_TRY(attr_float(im, l, "max", 1, &at.max));
  MlirValue v;
  TDM_TRY(inputs(im, l, 1, &v));
  tdm_type t;
  return build(im, l, TDM_OP_CLAMP, &v, 1, &at, &t, out);
}

static tdm_status tr_softmax(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {"axis", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  long axis;
  TDM_TRY(attr_int(im, l, "axis", 1, 0, &axis));
  MlirValue v;
  TDM_TRY(inputs(im, l, 1, &v));
  tdm_type in, t;
  TDM_TRY(value_type(v, &in));
  tdm_attrs at = {0};
  at.axis = axis;
  TDM_TRY(normalize_axes(im, l, &at.axis, 1, in.shape.rank));
  return build(im, l, TDM_OP_SOFTMAX, &v, 1, &at, &t, out);
}

static tdm_status tr_mvn(importer *im, ov_layer *l, MlirValue *out) {
  if (strcmp(l->version, "opset6") != 0)
    return layer_error(im, l, "MVN from %s is not supported (MVN-6 is)", l->version);
  static const char *const known[] = {"eps", "normalize_variance", "eps_mode", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  tdm_attrs at = {0};
  TDM_TRY(attr_float(im, l, "eps", 1, &at.eps));
  TDM_TRY(attr_bool(im, l, "normalize_variance", 1, &at.normalize_variance));
  const char *mode = attr(l->data, "eps_mode");
  if (!mode) return layer_error(im, l, "missing attribute 'eps_mode'");
  if (strcasecmp(mode, "inside_sqrt") == 0) at.eps_mode = "inside_sqrt";
  else if (strcasecmp(mode, "outside_sqrt") == 0) at.eps_mode = "outside_sqrt";
  else return layer_error(im, l, "eps_mode='%s' is not inside_sqrt or outside_sqrt", mode);
  if (l->nin != 2) return layer_error(im, l, "MVN takes 2 inputs (data, axes)");
  MlirValue v;
  TDM_TRY(input_value(im, l, 0, &v));
  tdm_type in, t;
  TDM_TRY(value_type(v, &in));
  TDM_TRY(const_ints(im, l, 1, at.axes, TDM_MAX_RANK, &at.naxes));
  TDM_TRY(normalize_axes(im, l, at.axes, at.naxes, in.shape.rank));
  return build(im, l, TDM_OP_MVN, &v, 1, &at, &t, out);
}

static tdm_status tr_reduce(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {"keep_dims", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  tdm_attrs at = {0};
  TDM_TRY(attr_bool(im, l, "keep_dims", 0, &at.keep_dims));
  if (l->nin != 2) return layer_error(im, l, "%s takes 2 inputs (data, axes)", l->type);
  MlirValue v;
  TDM_TRY(input_value(im, l, 0, &v));
  tdm_type in, t;
  TDM_TRY(value_type(v, &in));
  TDM_TRY(const_ints(im, l, 1, at.axes, TDM_MAX_RANK, &at.naxes));
  TDM_TRY(normalize_axes(im, l, at.axes, at.naxes, in.shape.rank));
  tdm_op_kind kind = strcasecmp(l->type, "ReduceSum") == 0 ? TDM_OP_REDUCE_SUM : TDM_OP_REDUCE_MEAN;
  return build(im, l, kind, &v, 1, &at, &t, out);
}

static tdm_status reshape_to(importer *im, ov_layer *l, MlirValue v, const tdm_shape *shape,
                             MlirValue *out) {
  tdm_type t;
  TDM_TRY(value_type(v, &t));
  t.shape = *shape;
  tdm_attrs at = {0};
  return build(im, l, TDM_OP_RESHAPE, &v, 1, &at, &t, out);
}

static tdm_status tr_reshape(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {"special_zero", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  int special_zero;
  TDM_TRY(attr_bool(im, l, "special_zero", 0, &special_zero));
  if (l->nin != 2) return layer_error(im, l, "Reshape takes 2 inputs (data, shape)");
  MlirValue v;
  TDM_TRY(input_value(im, l, 0, &v));
  tdm_type in;
  TDM_TRY(value_type(v, &in));
  int64_t want[TDM_MAX_RANK];
  int n;
  TDM_TRY(const_ints(im, l, 1, want, TDM_MAX_RANK, &n));
  tdm_shape s = {n, {0}};
  int infer = -1;
  int64_t known_numel = 1, numel;
  TDM_TRY(tdm_shape_numel(&in.shape, &numel));
  for (int i = 0; i < n; i++) {
    int64_t d = want[i];
    if (d == 0 && special_zero) {
      if (i >= in.shape.rank) return layer_error(im, l, "special_zero copies dim %d, the input has rank %d", i, in.shape.rank);
      d = in.shape.dim[i];
    }
    if (d == -1) {
      if (infer >= 0) return layer_error(im, l, "target shape has more than one -1");
      infer = i;
      continue;
    }
    if (d < 0) return layer_error(im, l, "target shape has a negative dim %lld", (long long)d);
    s.dim[i] = d;
    if (d && known_numel > TDM_MAX_ELEMENTS / d) return layer_error(im, l, "target shape is too large");
    known_numel *= d;
  }
  if (infer >= 0) {
    if (known_numel == 0 || numel % known_numel)
      return layer_error(im, l, "cannot infer the -1 dim of the target shape");
    s.dim[infer] = numel / known_numel;
  }
  return reshape_to(im, l, v, &s, out);
}

static tdm_status tr_squeeze(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  int unsq = strcasecmp(l->type, "Unsqueeze") == 0;
  if (l->nin != 2 && !(l->nin == 1 && !unsq)) return layer_error(im, l, "%s takes 2 inputs (data, axes)", l->type);
  MlirValue v;
  TDM_TRY(input_value(im, l, 0, &v));
  tdm_type in;
  TDM_TRY(value_type(v, &in));
  int64_t axes[TDM_MAX_RANK];
  int n = 0;
  if (l->nin == 2) TDM_TRY(const_ints(im, l, 1, axes, TDM_MAX_RANK, &n));
  tdm_shape s = {0, {0}};
  if (unsq) {
    int rank = in.shape.rank + n;
    if (rank > TDM_MAX_RANK) return layer_error(im, l, "result rank exceeds %d", TDM_MAX_RANK);
    TDM_TRY(normalize_axes(im, l, axes, n, rank));
    for (int d = 0, j = 0, k = 0; d < rank; d++)
      s.dim[s.rank++] = (j < n && axes[j] == d) ? (j++, 1) : in.shape.dim[k++];
  } else {
    if (l->nin == 1)
      for (int d = 0; d < in.shape.rank; d++)
        if (in.shape.dim[d] == 1) axes[n++] = d;
    TDM_TRY(normalize_axes(im, l, axes, n, in.shape.rank));
    for (int d = 0, j = 0; d < in.shape.rank; d++) {
      if (j < n && axes[j] == d) {
        j++;
        if (in.shape.dim[d] != 1) return layer_error(im, l, "cannot squeeze dim %d of size %lld", d, (long long)in.shape.dim[d]);
        continue;
      }
      s.dim[s.rank++] = in.shape.dim[d];
    }
  }
  return reshape_to(im, l, v, &s, out);
}

static tdm_status tr_transpose(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  if (l->nin != 2) return layer_error(im, l, "Transpose takes 2 inputs (data, order)");
  MlirValue v;
  TDM_TRY(input_value(im, l, 0, &v));
  tdm_type in, t;
  TDM_TRY(value_type(v, &in));
  tdm_attrs at = {0};
  TDM_TRY(const_ints(im, l, 1, at.perm, TDM_MAX_RANK, &at.nperm));
  if (at.nperm == 0) /* an empty order reverses the dims */
    for (int i = 0; i < in.shape.rank; i++) at.perm[at.nperm++] = in.shape.rank - 1 - i;
  for (int i = 0; i < at.nperm; i++)
    if (at.perm[i] < 0) at.perm[i] += in.shape.rank;
  return build(im, l, TDM_OP_TRANSPOSE, &v, 1, &at, &t, out);
}

/* An n-ary Concat becomes a left-folded chain of binary tdm.concat ops. */
static tdm_status tr_concat(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {"axis", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  long axis;
  TDM_TRY(attr_int(im, l, "axis", 0, 1, &axis));
  if (l->nin < 1) return layer_error(im, l, "Concat needs at least one input");
  MlirValue acc;
  TDM_TRY(input_value(im, l, 0, &acc));
  tdm_type in;
  TDM_TRY(value_type(acc, &in));
  tdm_attrs at = {0};
  at.axis = axis;
  TDM_TRY(normalize_axes(im, l, &at.axis, 1, in.shape.rank));
  for (int i = 1; i < l->nin; i++) {
    MlirValue pair[2] = {acc, {NULL}};
    TDM_TRY(input_value(im, l, i, &pair[1]));
    tdm_type t;
    TDM_TRY(build(im, l, TDM_OP_CONCAT, pair, 2, &at, &t, &acc));
  }
  *out = acc;
  return NULL;
}

static tdm_status tr_convert(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {"destination_type", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  const char *dst = attr(l->data, "destination_type");
  int dtype = dtype_from_ov(dst);
  if (dtype < 0) return layer_error(im, l, "destination_type='%s' is not supported", dst ? dst : "");
  MlirValue v;
  TDM_TRY(inputs(im, l, 1, &v));
  tdm_type t;
  TDM_TRY(value_type(v, &t));
  t.dtype = dtype;
  tdm_attrs at = {0};
  return build(im, l, TDM_OP_CONVERT, &v, 1, &at, &t, out);
}

static tdm_status tr_gather(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {"batch_dims", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  long bd;
  TDM_TRY(attr_int(im, l, "batch_dims", 0, 0, &bd));
  if (l->nin != 3) return layer_error(im, l, "Gather takes 3 inputs (data, indices, axis)");
  MlirValue v[2];
  TDM_TRY(input_value(im, l, 0, &v[0]));
  TDM_TRY(input_value(im, l, 1, &v[1]));
  tdm_type data, idx, t;
  TDM_TRY(value_type(v[0], &data));
  TDM_TRY(value_type(v[1], &idx));
  tdm_attrs at = {0};
  int n;
  TDM_TRY(const_ints(im, l, 2, &at.axis, 1, &n));
  if (n != 1) return layer_error(im, l, "the axis input must hold one value");
  TDM_TRY(normalize_axes(im, l, &at.axis, 1, data.shape.rank));
  at.batch_dims = bd < 0 ? bd + idx.shape.rank : bd;
  return build(im, l, TDM_OP_GATHER, v, 2, &at, &t, out);
}

static tdm_status tr_matmul(importer *im, ov_layer *l, MlirValue *out) {
  static const char *const known[] = {"transpose_a", "transpose_b", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  tdm_attrs at = {0};
  TDM_TRY(attr_bool(im, l, "transpose_a", 0, &at.transpose_a));
  TDM_TRY(attr_bool(im, l, "transpose_b", 0, &at.transpose_b));
  MlirValue v[2];
  TDM_TRY(inputs(im, l, 2, v));
  tdm_type t;
  return build(im, l, TDM_OP_MATMUL, v, 2, &at, &t, out);
}

static const struct {
  const char *type;
  translate_fn fn;
} translators[] = {
    {"Add", tr_binary},       {"Subtract", tr_binary},   {"Multiply", tr_binary},
    {"Divide", tr_binary},    {"Power", tr_binary},      {"Maximum", tr_binary},
    {"Minimum", tr_binary},   {"Relu", tr_unary},        {"Sigmoid", tr_unary},
    {"Tanh", tr_unary},       {"Exp", tr_unary},         {"Sqrt", tr_unary},
    {"Gelu", tr_gelu},        {"Swish", tr_swish},       {"Clamp", tr_clamp},
    {"Softmax", tr_softmax},  {"MVN", tr_mvn},           {"ReduceMean", tr_reduce},
    {"ReduceSum", tr_reduce}, {"Reshape", tr_reshape},   {"Squeeze", tr_squeeze},
    {"Unsqueeze", tr_squeeze}, {"Transpose", tr_transpose}, {"Concat", tr_concat},
    {"Convert", tr_convert},  {"Gather", tr_gather},     {"MatMul", tr_matmul},
};

/* Checks the value we built against what the file declares for output port 0. */
static tdm_status check_declared(importer *im, ov_layer *l, MlirValue v) {
  if (l->nout != 1) return layer_error(im, l, "%s must have exactly one output port", l->type);
  tdm_type got;
  TDM_TRY(value_type(v, &got));
  const ov_port *p = &l->out[0];
  if (!tdm_shape_equal(&got.shape, &p->type.shape) ||
      (p->type.dtype >= 0 && p->type.dtype != got.dtype)) {
    strbuf a, b;
    sb_init(&a);
    sb_init(&b);
    tdm_type declared = p->type;
    if (declared.dtype < 0) declared.dtype = got.dtype;
    tdm_type_print(&declared, &a);
    tdm_type_print(&got, &b);
    tdm_status st = layer_error(im, l, "output is declared %s but computes %s", sb_str(&a), sb_str(&b));
    sb_free(&a);
    sb_free(&b);
    return st;
  }
  l->values[0] = v;
  return NULL;
}

/* ---- Consts, parameters, results ----------------------------------------------- */

static tdm_status read_const(importer *im, ov_layer *l) {
  static const char *const known[] = {"element_type", "shape", "offset", "size", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  const char *et = attr(l->data, "element_type");
  l->const_type.dtype = dtype_from_ov(et);
  if (l->const_type.dtype < 0)
    return layer_error(im, l, "element_type='%s' is not supported", et ? et : "");
  int dyn;
  if (!parse_shape(attr(l->data, "shape"), &l->const_type.shape, &dyn) || dyn)
    return layer_error(im, l, "shape='%s' is not a static shape", attr(l->data, "shape"));
  long offset, size;
  TDM_TRY(attr_int(im, l, "offset", 0, 1, &offset));
  TDM_TRY(attr_int(im, l, "size", 0, 1, &size));
  int64_t numel;
  TDM_TRY(wrap_layer(im, l, tdm_shape_numel(&l->const_type.shape, &numel)));
  uint64_t need = (uint64_t)numel * tandem_dtype_size(l->const_type.dtype);
  if (offset < 0 || size < 0) return layer_error(im, l, "negative offset or size");
  if ((uint64_t)size < need)
    return layer_error(im, l, "size=%ld is smaller than the %llu bytes its shape needs", size,
                       (unsigned long long)need);
  if (im->bin_file < 0) {
    int idx;
    TDM_TRY(tdm_session_add_weight_file(im->session, im->bin_path, &idx));
    im->bin_file = idx;
  }
  const tdm_mapped_file *bin = &im->session->files[im->bin_file].map;
  if ((uint64_t)offset > bin->size || (uint64_t)size > bin->size - (uint64_t)offset)
    return layer_error(im, l, "offset=%ld size=%ld lies past the end of %s (%zu bytes)", offset,
                       size, im->bin_path, bin->size);
  l->is_const = 1;
  l->const_data = bin->data + offset;
  l->const_offset = (uint64_t)offset;
  l->const_size = need;
  if (l->nout != 1) return layer_error(im, l, "Const must have exactly one output port");
  tdm_type declared = l->out[0].type;
  if (!tdm_shape_equal(&declared.shape, &l->const_type.shape) ||
      (declared.dtype >= 0 && declared.dtype != l->const_type.dtype))
    return layer_error(im, l, "output port does not match the shape/element_type attributes");
  return NULL;
}

static tdm_status parameter_type(importer *im, ov_layer *l, tdm_type *t) {
  static const char *const known[] = {"shape", "element_type", NULL};
  TDM_TRY(check_known_attrs(im, l, known));
  const char *et = attr(l->data, "element_type");
  t->dtype = dtype_from_ov(et);
  if (t->dtype < 0) return layer_error(im, l, "element_type='%s' is not supported", et ? et : "");
  int dyn;
  const char *shape = attr(l->data, "shape");
  if (!shape) return layer_error(im, l, "missing attribute 'shape'");
  if (!parse_shape(shape, &t->shape, &dyn)) return layer_error(im, l, "shape='%s' is malformed", shape);
  if (dyn) return layer_error(im, l, "dynamic dimension in shape '%s'; tandem compiles static shapes", shape);
  if (l->nout == 1 && l->out[0].dynamic)
    return layer_error(im, l, "output port %d has a dynamic dimension; tandem compiles static shapes", l->out[0].id);
  if (t->dtype == TANDEM_DTYPE_BOOL)
    return layer_error(im, l, "boolean model inputs are not supported");
  if (l->nout == 1 && l->out[0].type.dtype >= 0 && l->out[0].type.dtype != t->dtype)
    return layer_error(im, l, "output port precision %s differs from element_type '%s'",
                       tandem_dtype_name(l->out[0].type.dtype), et);
  int64_t n;
  TDM_TRY(wrap_layer(im, l, tdm_shape_numel(&t->shape, &n)));
  if (n == 0) return layer_error(im, l, "shape '%s' has no elements; zero-size tensors are not supported", shape);
  return NULL;
}

/* First tensor name of a port ("a,b" -> "a"), else the layer name. */
static void tensor_name(const ov_layer *l, const ov_port *p, strbuf *sb) {
  const char *names = p ? p->names : NULL;
  if (names && *names) {
    const char *comma = strchr(names, ',');
    sb_append(sb, names, comma ? (size_t)(comma - names) : strlen(names));
  } else {
    sb_puts(sb, l->name);
  }
}

static MlirAttribute name_dict(importer *im, const char *name) {
  MlirNamedAttribute na = mlirNamedAttributeGet(mlirIdentifierGet(im->ctx, tdm_str("tdm.name")),
                                                mlirStringAttrGet(im->ctx, tdm_str(name)));
  return mlirDictionaryAttrGet(im->ctx, 1, &na);
}

/* ---- The whole graph -------------------------------------------------------------- */

static tdm_status topo_order(importer *im, int *order) {
  for (int i = 0; i < im->nedges; i++) im->layers[im->edges[i].to].indegree++;
  int head = 0, tail = 0;
  for (int i = 0; i < im->nlayers; i++)
    if (im->layers[i].indegree == 0) order[tail++] = i;
  while (head < tail) {
    int cur = order[head++];
    for (int i = 0; i < im->nedges; i++)
      if (im->edges[i].from == cur && --im->layers[im->edges[i].to].indegree == 0)
        order[tail++] = im->edges[i].to;
  }
  if (tail == im->nlayers) return NULL;
  /* What is left is cycles and what they feed. Walking back from any leftover layer
   * along leftover edges, nlayers steps must end on a cycle. */
  int cur = -1;
  for (int i = 0; i < im->nlayers && cur < 0; i++)
    if (im->layers[i].indegree > 0) cur = i;
  for (int step = 0; step < im->nlayers; step++)
    for (int i = 0; i < im->nedges; i++)
      if (im->edges[i].to == cur && im->layers[im->edges[i].from].indegree > 0) {
        cur = im->edges[i].from;
        break;
      }
  return layer_error(im, &im->layers[cur], "the graph has a cycle through this layer");
}

static tdm_status translate(importer *im, ov_layer *l) {
  if (strcmp(l->type, "Parameter") == 0 || strcmp(l->type, "Result") == 0 || l->is_const)
    return NULL;
  for (size_t i = 0; i < sizeof translators / sizeof translators[0]; i++)
    if (strcasecmp(translators[i].type, l->type) == 0) {
      MlirValue v = {NULL};
      TDM_TRY(translators[i].fn(im, l, &v));
      return check_declared(im, l, v);
    }
  return layer_error(im, l, "unsupported op type '%s' (%s)", l->type, l->version);
}

static tdm_status build_function(importer *im, MlirModule module) {
  MlirContext ctx = im->ctx;
  int nparams = 0, nresults = 0;
  /* Document order: the layers array is sorted by id, so walk the XML again. */
  int *params = calloc((size_t)im->nlayers + 1, sizeof(int));
  int *results = calloc((size_t)im->nlayers + 1, sizeof(int));
  int *order = calloc((size_t)im->nlayers + 1, sizeof(int));
  MlirType *arg_types = calloc((size_t)im->nlayers + 1, sizeof(MlirType));
  MlirLocation *arg_locs = calloc((size_t)im->nlayers + 1, sizeof(MlirLocation));
  tdm_status st = NULL;
  if (!params || !results || !order || !arg_types || !arg_locs) st = TDM_INTERNAL("out of memory");
  for (xmlNodePtr c = im->layers ? im->layers[0].node->parent->children : NULL; c && !st; c = c->next) {
    if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "layer") != 0) continue;
    long id = -1;
    parse_long(attr(c, "id"), &id);
    int i = find_layer(im, id);
    if (strcmp(im->layers[i].type, "Parameter") == 0) params[nparams++] = i;
    if (strcmp(im->layers[i].type, "Result") == 0) results[nresults++] = i;
  }
  if (!st && nresults == 0) st = TDM_BAD("%s: the model has no Result layer", im->xml_path);
  for (int i = 0; i < nparams && !st; i++) {
    ov_layer *l = &im->layers[params[i]];
    tdm_type t;
    st = parameter_type(im, l, &t);
    if (!st && l->nout != 1) st = layer_error(im, l, "Parameter must have one output port");
    if (!st && !tdm_shape_equal(&t.shape, &l->out[0].type.shape))
      st = layer_error(im, l, "output port shape does not match the shape attribute");
    if (!st) {
      arg_types[i] = tdm_type_to_mlir(ctx, &t);
      arg_locs[i] = loc_of(im, l);
    }
  }
  MlirRegion region = mlirRegionCreate();
  im->body = mlirBlockCreate(nparams, arg_types, arg_locs);
  mlirRegionAppendOwnedBlock(region, im->body);
  for (int i = 0; i < nparams && !st; i++)
    im->layers[params[i]].values[0] = mlirBlockGetArgument(im->body, i);

  if (!st) st = topo_order(im, order);
  for (int i = 0; i < im->nlayers && !st; i++)
    if (strcmp(im->layers[i].type, "Const") == 0) st = read_const(im, &im->layers[i]);
  for (int i = 0; i < im->nlayers && !st; i++) st = translate(im, &im->layers[order[i]]);

  MlirValue *rets = calloc((size_t)nresults + 1, sizeof(MlirValue));
  MlirType *ret_types = calloc((size_t)nresults + 1, sizeof(MlirType));
  MlirAttribute *arg_attrs = calloc((size_t)nparams + 1, sizeof(MlirAttribute));
  MlirAttribute *res_attrs = calloc((size_t)nresults + 1, sizeof(MlirAttribute));
  if (!st && (!rets || !ret_types || !arg_attrs || !res_attrs)) st = TDM_INTERNAL("out of memory");
  for (int i = 0; i < nresults && !st; i++) {
    ov_layer *l = &im->layers[results[i]];
    if (l->nin != 1) {
      st = layer_error(im, l, "Result must have one input");
      break;
    }
    st = input_value(im, l, 0, &rets[i]);
    if (st) break;
    ret_types[i] = mlirValueGetType(rets[i]);
    tdm_type rt;
    st = wrap_layer(im, l, tdm_type_from_mlir(ret_types[i], &rt));
    if (!st && rt.dtype == TANDEM_DTYPE_BOOL) st = layer_error(im, l, "boolean model outputs are not supported");
    if (st) break;
    const ov_edge *e = edge_into(im, results[i], 0);
    strbuf name;
    sb_init(&name);
    tensor_name(l, &im->layers[e->from].out[e->from_port], &name);
    res_attrs[i] = name_dict(im, sb_str(&name));
    sb_free(&name);
  }
  for (int i = 0; i < nparams && !st; i++) {
    ov_layer *l = &im->layers[params[i]];
    strbuf name;
    sb_init(&name);
    tensor_name(l, &l->out[0], &name);
    arg_attrs[i] = name_dict(im, sb_str(&name));
    sb_free(&name);
  }
  if (!st) {
    MlirLocation loc = mlirLocationFileLineColGet(ctx, tdm_str(im->xml_path), 1, 0);
    MlirOperationState ret = mlirOperationStateGet(tdm_str("func.return"), loc);
    mlirOperationStateAddOperands(&ret, nresults, rets);
    mlirBlockAppendOwnedOperation(im->body, mlirOperationCreate(&ret));
    MlirType fty = mlirFunctionTypeGet(ctx, nparams, arg_types, nresults, ret_types);
    MlirNamedAttribute attrs[4] = {
        mlirNamedAttributeGet(mlirIdentifierGet(ctx, tdm_str("sym_name")),
                              mlirStringAttrGet(ctx, tdm_str("main"))),
        mlirNamedAttributeGet(mlirIdentifierGet(ctx, tdm_str("function_type")),
                              mlirTypeAttrGet(fty)),
        mlirNamedAttributeGet(mlirIdentifierGet(ctx, tdm_str("arg_attrs")),
                              mlirArrayAttrGet(ctx, nparams, arg_attrs)),
        mlirNamedAttributeGet(mlirIdentifierGet(ctx, tdm_str("res_attrs")),
                              mlirArrayAttrGet(ctx, nresults, res_attrs)),
    };
    MlirOperationState fs = mlirOperationStateGet(tdm_str("func.func"), loc);
    mlirOperationStateAddAttributes(&fs, 4, attrs);
    mlirOperationStateAddOwnedRegions(&fs, 1, &region);
    mlirBlockAppendOwnedOperation(mlirModuleGetBody(module), mlirOperationCreate(&fs));
  } else {
    mlirRegionDestroy(region);
  }
  free(params), free(results), free(order), free(arg_types), free(arg_locs);
  free(rets), free(ret_types), free(arg_attrs), free(res_attrs);
  return st;
}

/* libxml2 reports through a callback; keep the first error with its line. */
static void on_xml_error(void *user, xmlErrorPtr err) {
  strbuf *sb = user;
  if (sb->len || !err || err->level < XML_ERR_ERROR) return;
  sb_printf(sb, "line %d: %s", err->line, err->message ? err->message : "parse error");
  while (sb->len && (sb->data[sb->len - 1] == '\n' || sb->data[sb->len - 1] == ' '))
    sb->data[--sb->len] = 0;
}

static tdm_status parse_xml(importer *im) {
  strbuf err;
  sb_init(&err);
  xmlParserCtxtPtr pc = xmlNewParserCtxt();
  if (!pc) return TDM_INTERNAL("out of memory");
  xmlSetStructuredErrorFunc(&err, on_xml_error);
  /* No network, no entity substitution, no DTD loading: the file is data. */
  im->doc = xmlCtxtReadFile(pc, im->xml_path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlSetStructuredErrorFunc(NULL, NULL);
  xmlFreeParserCtxt(pc);
  tdm_status st = NULL;
  if (!im->doc) {
    FILE *probe = fopen(im->xml_path, "rb");
    if (!probe) st = TDM_BAD("%s: cannot open: %s", im->xml_path, strerror(errno));
    else {
      fclose(probe);
      st = TDM_BAD("%s: malformed XML: %s", im->xml_path, err.len ? sb_str(&err) : "parse error");
    }
  }
  sb_free(&err);
  return st;
}

static tdm_status import(importer *im, MlirModule module) {
  TDM_TRY(parse_xml(im));
  xmlNodePtr net = xmlDocGetRootElement(im->doc);
  if (!net || strcmp((const char *)net->name, "net") != 0)
    return TDM_BAD("%s: not an OpenVINO IR file (the root element is not <net>)", im->xml_path);
  long version;
  const char *vs = attr(net, "version");
  if (!vs) return TDM_BAD("%s: <net> has no version attribute", im->xml_path);
  if (!parse_long(vs, &version))
    return TDM_BAD("%s: <net> version '%s' is not a number (10 and 11 are supported)", im->xml_path, vs);
  if (version != 10 && version != 11)
    return TDM_BAD("%s: IR version %ld is not supported (10 and 11 are)", im->xml_path, version);
  im->ir_version = (int)version;
  xmlNodePtr layers = child(net, "layers");
  if (!layers) return TDM_BAD("%s: <net> has no <layers>", im->xml_path);
  TDM_TRY(read_layers(im, layers));
  if (im->nlayers == 0) return TDM_BAD("%s: the model has no layers", im->xml_path);
  TDM_TRY(read_edges(im, child(net, "edges")));
  TDM_TRY(build_function(im, module));
  return NULL;
}

static void importer_free(importer *im) {
  for (int i = 0; i < im->nlayers; i++) {
    free(im->layers[i].in);
    free(im->layers[i].out);
    free(im->layers[i].values);
  }
  free(im->layers);
  free(im->edges);
  if (im->doc) xmlFreeDoc(im->doc);
}

tdm_status fe_openvino_import(tdm_session *s, const char *xml_path, const char *bin_path,
                              MlirModule *out_module) {
  *out_module = (MlirModule){NULL};
  importer im = {0};
  im.session = s;
  im.ctx = s->ctx;
  im.xml_path = xml_path;
  im.bin_file = -1;
  strbuf bin;
  sb_init(&bin);
  if (bin_path) sb_puts(&bin, bin_path);
  else {
    size_t n = strlen(xml_path);
    if (n > 4 && strcasecmp(xml_path + n - 4, ".xml") == 0) n -= 4;
    sb_append(&bin, xml_path, n);
    sb_puts(&bin, ".bin");
  }
  im.bin_path = sb_str(&bin);
  MlirModule module = mlirModuleCreateEmpty(mlirLocationFileLineColGet(s->ctx, tdm_str(xml_path), 1, 0));
  tdm_status st = import(&im, module);
  if (!st) {
    tdm_session_store_weight_files(s, module);
    if (!mlirOperationVerify(mlirModuleGetOperation(module)))
      st = tdm_session_failure(s, TDM_EXIT_INTERNAL, "the imported module does not verify");
  }
  importer_free(&im);
  sb_free(&bin);
  if (st) {
    mlirModuleDestroy(module);
    return st;
  }
  *out_module = module;
  return NULL;
}
