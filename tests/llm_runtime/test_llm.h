/* The LLM runtime's unit tests: the harness of tests/runtime (test_util.h) and the
 * groups, each in the file named after it. */
#ifndef TANDEM_TESTS_TEST_LLM_H
#define TANDEM_TESTS_TEST_LLM_H

#include <stdio.h>

#include "fake_llm.h"
#include "tandem/llm.h"
#include "test_util.h"

/* Serializes and opens `spec` (NULL after a failed check). */
tandem_tokenizer *t_open_spec(const tandem_tokenizer_spec *spec);
/* Tokenizes text[0..len) and checks the ids. */
void t_expect_ids(const char *file, int line, const tandem_tokenizer *tok, const char *text,
                  size_t len, int add_special, int parse_special, const int32_t *ids, size_t n);

void test_bpe(void);         /* test_tokenizer.c */
void test_spm(void);
void test_vocab_quirks(void);
void test_format(void);
void test_fuzz(void);
void test_sample(void);      /* test_sample.c */
void test_chat(void);
void test_fake(void);        /* test_eval.c */
void test_eval(void);
void test_desc(void);

#endif
