/* SentencePiece-style tokenizing (GGUF tokenizer.ggml.model "llama"), as llama.cpp's
 * llm_tokenizer_spm_session does it. The caller has already turned spaces into U+2581
 * and added the leading one. Characters (by UTF-8 lead byte) start as symbols; the
 * adjacent pair whose concatenation is the highest-scoring token merges first
 * (leftmost among equal scores), until no pair forms a token. A symbol that is not a
 * token is written as byte tokens "<0xAB>".
 *
 * llama.cpp also keeps a map to undo merges for a final symbol that is not a token;
 * it never applies, since merges only ever form tokens and a single character cannot
 * equal a two-character pair, so it is left out. Where llama.cpp would throw for a
 * byte without a byte token, unk_id is used (or the byte is dropped without one). */
#include <stdlib.h>

#include "rt_status.h"
#include "rt_tokenizer.h"

static bool rt_spm_add_bigram(const tandem_tokenizer *tok, const uint8_t *text, rt_symbol *sym,
                              rt_bigram_queue *q, int32_t left, int32_t right) {
  if (left < 0 || right < 0) return true;
  uint32_t size = sym[left].n + sym[right].n;
  int32_t id = rt_token_find(tok, text + sym[left].start, size);
  if (id < 0) return true;
  return rt_bigram_push(q, (rt_bigram){-(double)tok->scores[id], left, right, size, 0});
}

static bool rt_spm_merge(const tandem_tokenizer *tok, const uint8_t *text, rt_symbol *sym,
                         int32_t n, rt_bigram_queue *q) {
  for (int32_t i = 1; i < n; i++)
    if (!rt_spm_add_bigram(tok, text, sym, q, i - 1, i)) return false;
  while (q->count) {
    rt_bigram b = rt_bigram_pop(q);
    rt_symbol *l = &sym[b.left], *r = &sym[b.right];
    if (l->n == 0 || r->n == 0 || l->n + r->n != b.a) continue; /* stale */
    l->n += r->n;
    r->n = 0;
    l->next = r->next;
    if (r->next >= 0) sym[r->next].prev = b.left;
    if (!rt_spm_add_bigram(tok, text, sym, q, l->prev, b.left) ||
        !rt_spm_add_bigram(tok, text, sym, q, b.left, l->next))
      return false;
  }
  return true;
}

static bool rt_spm_emit(const tandem_tokenizer *tok, const uint8_t *text, const rt_symbol *sym,
                        rt_ids *out) {
  for (int32_t i = 0; i != -1; i = sym[i].next) {
    int32_t id = rt_token_find(tok, text + sym[i].start, sym[i].n);
    if (id >= 0) {
      if (!rt_ids_push(out, id)) return false;
      continue;
    }
    for (uint32_t j = 0; j < sym[i].n; j++) {
      int32_t byte = tok->byte_token[text[sym[i].start + j]];
      if (byte >= 0 && !rt_ids_push(out, byte)) return false;
    }
  }
  return true;
}

tandem_status rt_spm_tokenize(const tandem_tokenizer *tok, const uint8_t *text, size_t len,
                              rt_ids *out) {
  if (len == 0) return NULL;
  rt_symbol *sym = malloc(len * sizeof *sym);
  rt_bigram_queue q = {0};
  int32_t n = 0;
  bool ok = sym != NULL;
  for (size_t at = 0; ok && at < len; n++) {
    size_t step = rt_utf8_len(text[at]);
    if (step > len - at) step = len - at;
    sym[n] = (rt_symbol){n - 1, at + step == len ? -1 : n + 1, (uint32_t)at, (uint32_t)step};
    at += step;
  }
  ok = ok && rt_spm_merge(tok, text, sym, n, &q) && rt_spm_emit(tok, text, sym, out);
  free(sym);
  free(q.data);
  return ok ? NULL : rt_status_make(TANDEM_OUT_OF_MEMORY, "tokenizer: out of memory");
}
