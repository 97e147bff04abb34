/* Fuzz target: the GGUF reader (frontend/gguf.c) and the llama importer and tokenizer
 * extraction on top of it (frontend/gguf_llama.c).
 *
 * The input is a GGUF file. gguf_parse reads it from memory; fe_gguf_tokenizer
 * serializes its tokenizer, which the runtime must then open; fe_gguf_import builds
 * the model's graph (from a file, as tandemc does) with a small KV cache, so that
 * inputs that import run fast. Every error must be a one-line bad-input error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "frontend/gguf.h"
#include "fuzz_check.h"
#include "fuzz_session.h"
#include "fuzz_util.h"
#include "tandem/llm.h"

static void parse_only(const uint8_t *data, size_t size) {
  gguf_file g;
  tdm_status st = gguf_parse("model.gguf", data, size, &g);
  if (!st) {
    /* What the importer reads: every lookup and every string array. */
    uint32_t u;
    float f;
    fuzz_check_status(gguf_get_u32(&g, "llama.block_count", &u));
    fuzz_check_status(gguf_get_f32(&g, "llama.attention.layer_norm_rms_epsilon", &f));
    for (uint64_t i = 0; i < g.n_kv; i++) {
      const gguf_kv *kv = &g.kv[i];
      if (kv->type == GGUF_ARRAY && kv->elem_type == GGUF_STRING)
        for (uint64_t k = 0; k < kv->count; k++) (void)gguf_array_str(kv, k);
    }
    (void)gguf_find_tensor(&g, "token_embd.weight");
  }
  gguf_free(&g);
  fuzz_check_status(st);
}

static void tokenizer(const uint8_t *data, size_t size) {
  uint8_t *bytes = NULL;
  size_t n = 0;
  tdm_status st = fe_gguf_tokenizer("model.gguf", data, size, &bytes, &n);
  if (!st) {
    /* What tandemc serializes, the runtime must open. */
    tandem_tokenizer *tok = NULL;
    tandem_status rs = tandem_tokenizer_open(bytes, n, &tok);
    if (rs) {
      fprintf(stderr, "fuzz: a serialized tokenizer does not open: %s\n", tandem_status_message(rs));
      abort();
    }
    int32_t *ids = NULL;
    size_t count = 0;
    rs = tandem_tokenize(tok, "Hello world <|im_start|>", 24, 1, 1, &ids, &count);
    tandem_status_free(rs);
    free(ids);
    tandem_tokenizer_close(tok);
  }
  free(bytes);
  fuzz_check_status(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parse_only(data, size);
  tokenizer(data, size);
  const char *path = fuzz_write("model.gguf", data, size);
  tdm_session *s = fuzz_session_get();
  s->llm_ctx = 8;
  s->llm_prefill = 4;
  MlirModule m;
  tdm_status st = fe_gguf_import(s, path, &m);
  if (!st) mlirModuleDestroy(m);
  fuzz_check_status(st);
  return 0;
}
