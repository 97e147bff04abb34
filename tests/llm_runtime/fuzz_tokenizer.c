/* A fuzz target for tandem_tokenizer_open and tandem_tokenize: libFuzzer's entry
 * point, or a plain program over files.
 *
 *   clang -g -fsanitize=fuzzer,address,undefined -Iinclude tests/llm_runtime/fuzz_tokenizer.c \
 *         build/lib/libtandem_llm.a build/lib/libtandem_runtime.a -lpcre2-8 -lm -o fuzz_tokenizer
 *   ./fuzz_tokenizer CORPUS/          (seed it with serialized tokenizers)
 *   cc ... -DFUZZ_MAIN ...; ./fuzz_tokenizer FILE...   (replays inputs without libFuzzer)
 *
 * The input is a serialized tokenizer; if it opens, its last 64 bytes (or fewer) are
 * also tokenized as text, with and without special tokens. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tandem/llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tandem_tokenizer *tok = NULL;
  tandem_status status = tandem_tokenizer_open(data, size, &tok);
  if (status) {
    tandem_status_free(status);
    return 0;
  }
  size_t n = size < 64 ? size : 64;
  for (int special = 0; special < 2; special++) {
    int32_t *ids = NULL;
    size_t count = 0;
    status = tandem_tokenize(tok, (const char *)data + size - n, n, 1, special, &ids, &count);
    for (size_t i = 0; !status && i < count; i++) {
      const char *piece;
      size_t len;
      tandem_status_free(tandem_token_piece(tok, ids[i], &piece, &len));
    }
    tandem_status_free(status);
    free(ids);
  }
  tandem_tokenizer_close(tok);
  return 0;
}

#ifdef FUZZ_MAIN
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) continue;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
    size_t got = buf ? fread(buf, 1, (size_t)size, f) : 0;
    fclose(f);
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
  }
  return 0;
}
#endif
