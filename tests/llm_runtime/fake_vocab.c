/* The fake LLMs' vocabularies, built the way tandemc's GGUF importer fills a
 * tandem_tokenizer_spec. The BPE one follows SmolLM2 (byte-level, "smollm"
 * pre-tokenizer, ChatML template with a default system message, no BOS); the SPM one
 * follows Llama 2 (byte fallback tokens, BOS, [INST] template). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fake_llm.h"

/* SmolLM2-135M-Instruct's tokenizer.chat_template, verbatim. */
static const char fake_chatml_template[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}";

static const char fake_llama2_template[] =
    "{% if messages[0]['role'] == 'system' %}{% set system_message = '<<SYS>>\\n' + "
    "messages[0]['content'] | trim + '\\n<</SYS>>\\n\\n' %}{% set messages = messages[1:] %}"
    "{% else %}{% set system_message = '' %}{% endif %}{% for message in messages %}"
    "{% if loop.index0 == 0 %}{% set content = system_message + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == "
    "'user' %}{{ bos_token + '[INST] ' + content | trim + ' [/INST]' }}{% elif message['role']"
    " == 'assistant' %}{{ ' ' + content | trim + ' ' + eos_token }}{% endif %}{% endfor %}";

static char fake_bytes[256][3];
static const char *fake_bpe_tokens[FAKE_LLM_VOCAB];
static int32_t fake_bpe_types[FAKE_LLM_VOCAB];
/* Merge i makes token 259 + i (and "a b" makes 271). */
static const char *const fake_bpe_merges[] = {
    "h e", "l l", "he ll", "hell o", "\xc4\xa0 w", "o r", "\xc4\xa0w or", "l d",
    "\xc4\xa0wor ld", "e l", "\xc4\xa0 \xc4\xa0", "a b",
};
static const char *const fake_bpe_merged[] = {
    "he", "ll", "hell", "hello", "\xc4\xa0w", "or", "\xc4\xa0wor", "ld",
    "\xc4\xa0world", "el", "\xc4\xa0\xc4\xa0",
};

/* GPT-2's bytes_to_unicode, written out independently of the runtime's. */
static void fake_byte_chars(void) {
  int next = 256;
  for (int b = 0; b < 256; b++) {
    bool printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
    int cp = printable ? b : next++;
    if (cp < 0x80) {
      fake_bytes[b][0] = (char)cp;
    } else {
      fake_bytes[b][0] = (char)(0xc0 | (cp >> 6));
      fake_bytes[b][1] = (char)(0x80 | (cp & 0x3f));
    }
  }
}

const tandem_tokenizer_spec *fake_vocab_bpe(void) {
  static tandem_tokenizer_spec spec;
  if (spec.n_tokens) return &spec;
  fake_byte_chars();
  fake_bpe_tokens[0] = "<|endoftext|>";
  fake_bpe_tokens[1] = "<|im_start|>";
  fake_bpe_tokens[2] = "<|im_end|>";
  for (int b = 0; b < 256; b++) fake_bpe_tokens[FAKE_BPE_BYTE + b] = fake_bytes[b];
  for (int i = 0; i < 11; i++) fake_bpe_tokens[259 + i] = fake_bpe_merged[i];
  fake_bpe_tokens[270] = "<tool>";
  fake_bpe_tokens[271] = "ab";
  for (uint32_t i = 0; i < FAKE_LLM_VOCAB; i++) fake_bpe_types[i] = i < 3 ? 3 : i == 270 ? 4 : 1;
  spec = (tandem_tokenizer_spec){
      .kind = TANDEM_TOKENIZER_BPE, .n_tokens = FAKE_LLM_VOCAB, .tokens = fake_bpe_tokens,
      .scores = NULL, .token_types = fake_bpe_types,
      .n_merges = sizeof fake_bpe_merges / sizeof fake_bpe_merges[0], .merges = fake_bpe_merges,
      .bos_id = 1, .eos_id = 2, .unk_id = 0, .pad_id = 2,
      .add_bos = 0, .add_eos = -1, .add_space_prefix = 0,
      .pre = "smollm", .chat_template = fake_chatml_template};
  return &spec;
}

static char fake_hex[256][7];
static const char *fake_spm_tokens[FAKE_LLM_VOCAB];
static float fake_spm_scores[FAKE_LLM_VOCAB];
static int32_t fake_spm_types[FAKE_LLM_VOCAB];

const tandem_tokenizer_spec *fake_vocab_spm(void) {
  static tandem_tokenizer_spec spec;
  static const char *const words[] = {"\xe2\x96\x81", "a", "b", "c", "h", "i", "e", "l", "o",
                                      "ab", "bc", "\xe2\x96\x81h", "\xe2\x96\x81hi"};
  static const float scores[] = {-1, -2, -2, -2, -2, -2, -2, -2, -2, -1.0f, -0.5f, -1.5f, -0.25f};
  if (spec.n_tokens) return &spec;
  fake_spm_tokens[0] = "<unk>";
  fake_spm_tokens[1] = "<s>";
  fake_spm_tokens[2] = "</s>";
  fake_spm_types[0] = 2;
  fake_spm_types[1] = fake_spm_types[2] = 3;
  for (int b = 0; b < 256; b++) {
    snprintf(fake_hex[b], sizeof fake_hex[b], "<0x%02X>", b);
    fake_spm_tokens[3 + b] = fake_hex[b];
    fake_spm_types[3 + b] = 6;
  }
  for (int i = 0; i < 13; i++) {
    fake_spm_tokens[259 + i] = words[i];
    fake_spm_scores[259 + i] = scores[i];
    fake_spm_types[259 + i] = 1;
  }
  spec = (tandem_tokenizer_spec){
      .kind = TANDEM_TOKENIZER_SPM, .n_tokens = FAKE_LLM_VOCAB, .tokens = fake_spm_tokens,
      .scores = fake_spm_scores, .token_types = fake_spm_types, .n_merges = 0, .merges = NULL,
      .bos_id = 1, .eos_id = 2, .unk_id = 0, .pad_id = -1,
      .add_bos = -1, .add_eos = -1, .add_space_prefix = -1,
      .pre = NULL, .chat_template = fake_llama2_template};
  return &spec;
}
