/* Sampling (rt_sample.h) and chat templates (chat.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rt_llm_driver.h"
#include "rt_sample.h"
#include "test_llm.h"

/* Counts over `draws` samples of logits `l` [n] with `p`'s settings. */
static void t_histogram(const float *l, uint32_t n, rt_sampler_params p, int draws, int *count) {
  rt_sampler s;
  CHECK_OK(rt_sampler_init(&s, &p, n));
  memset(count, 0, n * sizeof *count);
  for (int i = 0; i < draws; i++) count[rt_sampler_sample(&s, l)]++;
  rt_sampler_free(&s);
}

void test_sample(void) {
  /* xoshiro256** from splitmix64(0): integer arithmetic only, the same everywhere. */
  rt_rng rng;
  rt_rng_seed(&rng, 0);
  uint64_t first = rt_rng_next(&rng);
  rt_rng_seed(&rng, 0);
  CHECK(rt_rng_next(&rng) == first);
  CHECK(first == 0x99ec5f36cb75f2b4ull);
  double u = rt_rng_uniform(&rng);
  CHECK(u >= 0 && u < 1);

  const float ties[] = {1, 3, 0, 3, 2};
  CHECK(rt_argmax(ties, 5) == 1);
  int count[5];
  t_histogram(ties, 5, (rt_sampler_params){0, 40, 0.95f, 1}, 50, count);
  CHECK(count[1] == 50); /* temp 0: greedy, the lowest id among equal maxima */
  t_histogram(ties, 5, (rt_sampler_params){5, 1, 1, 2}, 50, count);
  CHECK(count[1] == 50); /* top-k 1 */
  t_histogram(ties, 5, (rt_sampler_params){5, 0, 0, 3}, 50, count);
  CHECK(count[1] == 50); /* top-p 0 keeps the first, highest */

  /* p = (0.5, 0.3, 0.2): the frequencies follow, and top-k/top-p cut the tail. */
  const float l[] = {logf(0.5f), logf(0.3f), logf(0.2f)};
  t_histogram(l, 3, (rt_sampler_params){1, 0, 1, 42}, 20000, count);
  CHECK(fabs(count[0] / 20000.0 - 0.5) < 0.02 && fabs(count[1] / 20000.0 - 0.3) < 0.02);
  t_histogram(l, 3, (rt_sampler_params){1, 2, 1, 42}, 20000, count);
  CHECK(count[2] == 0 && fabs(count[0] / 20000.0 - 0.625) < 0.02);
  t_histogram(l, 3, (rt_sampler_params){1, 0, 0.7f, 42}, 20000, count);
  CHECK(count[2] == 0 && fabs(count[0] / 20000.0 - 0.625) < 0.02);
  /* Top-p sees the logits before the temperature: at T = 100 the two kept tokens are
   * near 50/50, and the third is still cut. */
  t_histogram(l, 3, (rt_sampler_params){100, 0, 0.7f, 42}, 20000, count);
  CHECK(count[2] == 0 && fabs(count[0] / 20000.0 - 0.5) < 0.02);
  /* Temperature 0.5 squares the odds: 25:9:4. */
  t_histogram(l, 3, (rt_sampler_params){0.5f, 0, 1, 42}, 20000, count);
  CHECK(fabs(count[0] / 20000.0 - 25.0 / 38) < 0.02);

  /* The same seed, the same tokens; another seed, others. */
  float wide[64];
  for (int i = 0; i < 64; i++) wide[i] = (float)(i % 5) * 0.1f;
  rt_sampler a, b, c;
  rt_sampler_params p = {0.8f, 40, 0.95f, 1234};
  CHECK_OK(rt_sampler_init(&a, &p, 64));
  CHECK_OK(rt_sampler_init(&b, &p, 64));
  p.seed = 1235;
  CHECK_OK(rt_sampler_init(&c, &p, 64));
  int same_ab = 0, same_ac = 0;
  for (int i = 0; i < 50; i++) {
    int32_t x = rt_sampler_sample(&a, wide), y = rt_sampler_sample(&b, wide), z = rt_sampler_sample(&c, wide);
    same_ab += x == y;
    same_ac += x == z;
  }
  CHECK(same_ab == 50 && same_ac < 50);
  rt_sampler_free(&a);
  rt_sampler_free(&b);
  rt_sampler_free(&c);
}

static void t_expect_chat(const char *tmpl, const char *prompt, const char *expect) {
  char *out = NULL;
  CHECK_OK(rt_chat_format(tmpl, prompt, &out));
  if (out && strcmp(out, expect) != 0) t_fail(__FILE__, __LINE__, expect, out);
  free(out);
}

void test_chat(void) {
  const tandem_tokenizer_spec *smol = fake_vocab_bpe(); /* SmolLM2's template */
  t_expect_chat(smol->chat_template, "Hi!",
                "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
                "Hugging Face<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n");
  t_expect_chat("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}",
                "Hi", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  /* Qwen2's, with an escaped newline in the literal. */
  t_expect_chat("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
                "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
                "'\\n'}}{% endfor %}",
                "Q", "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                     "Q<|im_end|>\n<|im_start|>assistant\n");
  t_expect_chat(fake_vocab_spm()->chat_template, "  hi  ", "[INST]   hi   [/INST]");
  t_expect_chat("{% for message in messages %}{% set content = message['content'] %}{{ bos_token + "
                "'[INST] ' + content.strip() + ' [/INST]' }}{% endfor %}",
                "  hi  ", "[INST] hi [/INST]");
  t_expect_chat("{%- if messages[0]['role'] == 'system' %}[SYSTEM_PROMPT]...[INST]", "x", "[INST] x[/INST]");
  char *out = NULL;
  CHECK_STATUS(rt_chat_format(NULL, "x", &out), TANDEM_INVALID_ARGUMENT, "has no chat template");
  CHECK_STATUS(rt_chat_format("{{ '<start_of_turn>user\\n' }}", "x", &out), TANDEM_INVALID_ARGUMENT,
               "neither ChatML");
  CHECK(out == NULL);
}
