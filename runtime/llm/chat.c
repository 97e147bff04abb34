/* --chat: one user message in the model's chat template, without a Jinja interpreter.
 * Like llama.cpp's llm_chat_detect_template, the template is recognised by markers:
 *
 *   "<|im_start|>" (not Phi-4's "<|im_sep|>", not SmolVLM's "<end_of_utterance>"):
 *       ChatML: <|im_start|>user\nPROMPT<|im_end|>\n<|im_start|>assistant\n, after the
 *       template's default system message when it inserts one for a conversation that
 *       has none (SmolLM2, Qwen2: a string literal "<|im_start|>system\n...<|im_end|>\n"
 *       under a test of messages[0]['role'] != 'system');
 *   "[INST]": Llama 2 "[INST] PROMPT [/INST]" and Mistral's v1 " [INST] PROMPT [/INST]",
 *       v3 "[INST] PROMPT[/INST]", v3-tekken "[INST]PROMPT[/INST]", v7 "[INST] PROMPT[/INST]".
 *
 * Anything else is refused with the reason, rather than run with a wrong format. */
#include <stdlib.h>
#include <string.h>

#include "rt_llm_driver.h"

static bool rt_has(const char *haystack, const char *needle) {
  return strstr(haystack, needle) != NULL;
}

static char *rt_concat3(const char *a, const char *b, const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *s = malloc(la + lb + lc + 1);
  if (!s) return NULL;
  memcpy(s, a, la);
  memcpy(s + la, b, lb);
  memcpy(s + la + lb, c, lc + 1);
  return s;
}

/* The string literal that starts at `open` (a quote), with \n, \t, \\ and \' or \"
 * unescaped; NULL if it does not end. */
static char *rt_literal(const char *open) {
  char quote = *open, *out = malloc(strlen(open) + 1);
  size_t n = 0;
  if (!out) return NULL;
  for (const char *p = open + 1; *p; p++) {
    if (*p == quote) {
      out[n] = 0;
      return out;
    }
    if (*p == '\\' && p[1]) {
      p++;
      out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
    } else {
      out[n++] = *p;
    }
  }
  free(out);
  return NULL;
}

/* The default system message: the first literal that holds a whole system turn,
 * provided the template tests for a conversation without one. "" if none. */
static char *rt_default_system(const char *tmpl) {
  if (!rt_has(tmpl, "!= 'system'") && !rt_has(tmpl, "!= \"system\""))
    return strdup("");
  for (const char *p = strstr(tmpl, "<|im_start|>system"); p; p = strstr(p + 1, "<|im_start|>system")) {
    const char *open = p;
    while (open > tmpl && open[-1] != '\'' && open[-1] != '"') open--;
    if (open == tmpl) break;
    char *lit = rt_literal(open - 1);
    if (lit && strncmp(lit, "<|im_start|>system", 18) == 0 && rt_has(lit, "<|im_end|>") &&
        strlen(lit) > strlen("<|im_start|>system\n<|im_end|>\n"))
      return lit;
    free(lit);
  }
  return strdup("");
}

static tandem_status rt_chatml(const char *tmpl, const char *prompt, char **out) {
  char *system = rt_default_system(tmpl);
  char *user = rt_concat3("<|im_start|>user\n", prompt, "<|im_end|>\n<|im_start|>assistant\n");
  *out = system && user ? rt_concat3(system, user, "") : NULL;
  free(system);
  free(user);
  return *out ? NULL : rt_status_make(TANDEM_OUT_OF_MEMORY, "out of memory");
}

/* Llama 2's trims the message when the template does (content.strip()). */
static char *rt_trimmed(const char *s) {
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
  char *t = malloc(n + 1);
  if (t) {
    memcpy(t, s, n);
    t[n] = 0;
  }
  return t;
}

static tandem_status rt_inst(const char *tmpl, const char *prompt, char **out) {
  const char *before = "[INST] ", *after = " [/INST]";
  bool mistral = rt_has(tmpl, "' [INST] ' + system_message") || rt_has(tmpl, "[AVAILABLE_TOOLS]");
  if (rt_has(tmpl, "[SYSTEM_PROMPT]")) {
    after = "[/INST]"; /* v7 */
  } else if (mistral && rt_has(tmpl, " [INST]")) {
    before = " [INST] "; /* v1 */
  } else if (mistral) {
    after = "[/INST]";
    if (rt_has(tmpl, "\"[INST]\"")) before = "[INST]"; /* v3-tekken, else v3 */
  }
  char *content = rt_has(tmpl, "content.strip()") && !mistral ? rt_trimmed(prompt) : strdup(prompt);
  *out = content ? rt_concat3(before, content, after) : NULL;
  free(content);
  return *out ? NULL : rt_status_make(TANDEM_OUT_OF_MEMORY, "out of memory");
}

tandem_status rt_chat_format(const char *tmpl, const char *prompt, char **out) {
  *out = NULL;
  if (!tmpl)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "--chat: the model has no chat template "
                          "(tokenizer.chat_template); run without --chat");
  if (rt_has(tmpl, "<|im_start|>") && !rt_has(tmpl, "<|im_sep|>") && !rt_has(tmpl, "<end_of_utterance>"))
    return rt_chatml(tmpl, prompt, out);
  if (rt_has(tmpl, "[INST]") || strncmp(tmpl, "mistral", 7) == 0) return rt_inst(tmpl, prompt, out);
  return rt_status_make(TANDEM_INVALID_ARGUMENT, "--chat: the model's chat template is neither "
                        "ChatML (<|im_start|>) nor [INST] (Llama 2, Mistral), the formats this "
                        "runtime knows without a Jinja interpreter; run without --chat and write "
                        "the template's markers into -p");
}
