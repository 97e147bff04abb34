/* The generated C header: what a program needs to call the compiled model, and
 * the facts (shapes, sizes, weights hash) to check it against. */
#include <ctype.h>
#include <string.h>

#include "codegen/codegen.h"

static const char *c_type(int32_t dtype) {
  switch (dtype) {
    case TANDEM_DTYPE_F32: return "float";
    case TANDEM_DTYPE_F16:
    case TANDEM_DTYPE_BF16: return "uint16_t";
    case TANDEM_DTYPE_I8: return "int8_t";
    case TANDEM_DTYPE_U8: return "uint8_t";
    case TANDEM_DTYPE_I32: return "int32_t";
    case TANDEM_DTYPE_I64: return "int64_t";
    default: return "void";
  }
}

/* A C identifier from a tensor name: other characters become '_'. */
static void ident(strbuf *sb, const char *name, int index, const char *fallback) {
  size_t start = sb->len;
  for (const char *p = name; *p; p++)
    sb_printf(sb, "%c", isalnum((unsigned char)*p) ? *p : '_');
  if (sb->len == start || isdigit((unsigned char)sb->data[start])) {
    sb->len = start;
    sb->data[start] = 0;
    sb_printf(sb, "%s%d", fallback, index);
  }
}

/* Text from the model inside a C comment: no comment terminator, no newline. */
static void comment_safe(strbuf *sb, const char *s) {
  for (; *s; s++) {
    if (*s == '*' && s[1] == '/') sb_puts(sb, "* ");
    else if ((unsigned char)*s < 32) sb_puts(sb, "?");
    else sb_append(sb, s, 1);
  }
}

static void upper(strbuf *sb, const char *s) {
  for (; *s; s++) sb_printf(sb, "%c", toupper((unsigned char)*s));
}

static void describe(strbuf *sb, const char *what, const tdm_io_tensor *io, int n) {
  sb_printf(sb, " * %s\n", what);
  for (int i = 0; i < n; i++) {
    strbuf t;
    sb_init(&t);
    tdm_type_print(&io[i].type, &t);
    int64_t numel = 1;
    for (int d = 0; d < io[i].type.shape.rank; d++) numel *= io[i].type.shape.dim[d];
    strbuf name;
    sb_init(&name);
    comment_safe(&name, io[i].name);
    sb_printf(sb, " *   %d  %-24s %-20s %lld bytes\n", i, sb_str(&name), sb_str(&t),
              (long long)numel * (long long)tandem_dtype_size(io[i].type.dtype));
    sb_free(&name);
    sb_free(&t);
  }
}

static void prototype(strbuf *sb, const tdm_session *s) {
  const tdm_entry *e = &s->entries[0];
  sb_printf(sb, "void %s(const void *weights", e->symbol);
  for (int i = 0; i < e->ninputs; i++) {
    sb_printf(sb, ",\n    const %s *", c_type(e->inputs[i].type.dtype));
    ident(sb, e->inputs[i].name, i, "input");
  }
  for (int i = 0; i < e->noutputs; i++) {
    sb_printf(sb, ",\n    %s *", c_type(e->outputs[i].type.dtype));
    ident(sb, e->outputs[i].name, i, "output");
    /* An output named like an input (y = f(y)) gets a suffix. */
    for (int j = 0; j < e->ninputs; j++)
      if (strcmp(e->inputs[j].name, e->outputs[i].name) == 0) {
        sb_puts(sb, "_out");
        break;
      }
  }
  sb_puts(sb, ");\n");
}

static void size_macros(strbuf *sb, const char *prefix, const char *kind, const tdm_io_tensor *io, int n) {
  for (int i = 0; i < n; i++) {
    int64_t numel = 1;
    for (int d = 0; d < io[i].type.shape.rank; d++) numel *= io[i].type.shape.dim[d];
    sb_printf(sb, "#define %s_%s_%d_SIZE %lldu /* ", prefix, kind, i,
              (long long)numel * (long long)tandem_dtype_size(io[i].type.dtype));
    comment_safe(sb, io[i].name);
    sb_puts(sb, " */\n");
  }
}

tdm_status cg_header_write(const tdm_session *s, const cg_weights *w, int embedded,
                           const char *weights_file, const char *source, FILE *fp,
                           const char *path) {
  strbuf sb, up;
  sb_init(&sb);
  sb_init(&up);
  upper(&up, s->model_name);
  const char *U = sb_str(&up), *n = s->model_name;
  sb_printf(&sb, "/* %s.h: the model compiled by tandemc %s from ", n, TANDEM_VERSION_STRING);
  comment_safe(&sb, source);
  sb_puts(&sb, ". Generated; do not edit.\n *\n");
  sb_printf(&sb, " * Call it directly:\n *   %s_run(weights, inputs..., outputs...)  (declared below)\n", n);
  sb_printf(&sb, " * or through the runtime (include/tandem/runtime.h, link -ltandem_runtime):\n");
  sb_printf(&sb, " *   tandem_model_open(&%s_desc, &opts, NULL, &model); tandem_model_run(model, in, out);\n *\n", n);
  const tdm_entry *e = &s->entries[0];
  describe(&sb, "Inputs (dense, row-major):", e->inputs, e->ninputs);
  describe(&sb, "Outputs (dense, row-major):", e->outputs, e->noutputs);
  if (embedded)
    sb_printf(&sb, " *\n * Weights: embedded in the object (%s_desc.embedded_weights), %llu bytes.\n", n,
              (unsigned long long)w->size);
  else
  {
    sb_puts(&sb, " *\n * Weights: ");
    comment_safe(&sb, weights_file);
    sb_printf(&sb, ", %llu bytes of data starting %u bytes into the file\n"
              " *   (mapped by tandem_model_open); hash 0x%016llx.\n",
              (unsigned long long)w->size, TANDEM_WEIGHTS_DATA_OFFSET, (unsigned long long)w->hash);
  }
  sb_printf(&sb, " *\n * Buffers must not overlap one another or the weights; 64-byte alignment is\n"
                 " * best but not required. %s_run keeps no state: concurrent calls on distinct\n"
                 " * output buffers are safe. It allocates its temporaries with malloc.\n */\n", n);
  sb_printf(&sb, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n#include \"tandem/runtime.h\"\n\n", U, U);
  sb_printf(&sb, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  sb_printf(&sb, "#define %s_INPUT_COUNT %d\n#define %s_OUTPUT_COUNT %d\n", U, e->ninputs, U, e->noutputs);
  size_macros(&sb, U, "INPUT", e->inputs, e->ninputs);
  size_macros(&sb, U, "OUTPUT", e->outputs, e->noutputs);
  sb_printf(&sb, "#define %s_WEIGHTS_SIZE %lluu\n#define %s_WEIGHTS_HASH 0x%016llxu\n", U,
            (unsigned long long)w->size, U, (unsigned long long)w->hash);
  sb_printf(&sb, "#define %s_WEIGHTS_EMBEDDED %d\n\n", U, embedded);
  sb_printf(&sb, "/* The descriptor tandem_model_open takes. */\nextern const tandem_model_desc %s_desc;\n\n", n);
  sb_printf(&sb, "/* weights: the weights data section (64-byte aligned). */\n");
  prototype(&sb, s);
  sb_printf(&sb, "\n/* The same, over arrays of pointers (what %s_desc.entry points to). */\n", n);
  sb_printf(&sb, "void %s_entry(const void *weights, const void *const *inputs, void *const *outputs);\n\n", n);
  sb_printf(&sb, "#ifdef __cplusplus\n}\n#endif\n#endif /* %s_H */\n", U);
  tdm_status st = sb_failed(&sb) ? TDM_INTERNAL("out of memory") : tdm_write_all(fp, sb.data, sb.len, path);
  sb_free(&sb);
  sb_free(&up);
  return st;
}

tdm_status cg_llm_header_write(const tdm_session *s, const cg_weights *w, int embedded,
                               const char *weights_file, const char *source, FILE *fp,
                               const char *path) {
  const tdm_entry *pre = tdm_session_entry(s, "prefill"), *dec = tdm_session_entry(s, "decode");
  if (!pre || !dec) return TDM_INTERNAL("an LLM without @prefill and @decode");
  strbuf sb, up;
  sb_init(&sb);
  sb_init(&up);
  upper(&up, s->model_name);
  const char *U = sb_str(&up), *n = s->model_name;
  const tdm_type *cache = &pre->states[0].type;
  sb_printf(&sb, "/* %s.h: the language model compiled by tandemc %s from ", n, TANDEM_VERSION_STRING);
  comment_safe(&sb, source);
  sb_puts(&sb, ". Generated; do not edit.\n *\n");
  sb_printf(&sb, " * Run it through the LLM runtime (include/tandem/llm.h; link %s.o or lib%s.a with\n"
                 " * -ltandem_llm_main for a ready-made main(), -ltandem_runtime -lpcre2-8 -lm):\n"
                 " *   tandem_llm_driver_main(&%s_llm, argc, argv);\n *\n", n, n, n);
  sb_printf(&sb, " * Vocabulary %lld tokens; %lld layers; KV cache of %lld positions x %lld heads x %lld\n"
                 " * (%lld bytes each for K and V); prefill takes %lld tokens per call.\n",
            (long long)pre->outputs[0].type.shape.dim[1], (long long)cache->shape.dim[0],
            (long long)cache->shape.dim[1], (long long)cache->shape.dim[2], (long long)cache->shape.dim[3],
            (long long)(cache->shape.dim[0] * cache->shape.dim[1] * cache->shape.dim[2] * cache->shape.dim[3] * 4),
            (long long)pre->inputs[0].type.shape.dim[0]);
  if (embedded) sb_printf(&sb, " * Weights: embedded in the object, %llu bytes.\n */\n", (unsigned long long)w->size);
  else {
    sb_puts(&sb, " * Weights: ");
    comment_safe(&sb, weights_file);
    sb_printf(&sb, ", %llu bytes of data; hash 0x%016llx.\n */\n", (unsigned long long)w->size,
              (unsigned long long)w->hash);
  }
  sb_printf(&sb, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n#include \"tandem/llm.h\"\n\n", U, U);
  sb_printf(&sb, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  sb_printf(&sb, "#define %s_WEIGHTS_SIZE %lluu\n#define %s_WEIGHTS_HASH 0x%016llxu\n#define %s_WEIGHTS_EMBEDDED %d\n\n",
            U, (unsigned long long)w->size, U, (unsigned long long)w->hash, U, embedded);
  sb_printf(&sb, "extern const tandem_llm_desc %s_llm;\n\n", n);
  sb_printf(&sb, "/* The entry points (tandem_llm_entry_fn): tokens [n], pos, K and V caches, logits [n, vocab]. */\n");
  sb_printf(&sb, "void %s(const void *weights, const int32_t *tokens, const int32_t *pos, void *k_cache,\n"
                 "    void *v_cache, float *logits);\n", pre->symbol);
  sb_printf(&sb, "void %s(const void *weights, const int32_t *tokens, const int32_t *pos, void *k_cache,\n"
                 "    void *v_cache, float *logits);\n\n", dec->symbol);
  sb_printf(&sb, "#ifdef __cplusplus\n}\n#endif\n#endif /* %s_H */\n", U);
  tdm_status st = sb_failed(&sb) ? TDM_INTERNAL("out of memory") : tdm_write_all(fp, sb.data, sb.len, path);
  sb_free(&sb);
  sb_free(&up);
  return st;
}
