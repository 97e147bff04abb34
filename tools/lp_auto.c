/* --lp=auto (see lp_auto.h): calibration build, pair scores, window search. */
#include "tools/lp_auto.h"

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/frontend.h"
#include "mlir-c/BuiltinAttributes.h"
#include "passes/lp.h"
#include "passes/pipeline.h"
#include "tandem/llm.h"

extern const char tdm_calibration_text[];
extern const unsigned long tdm_calibration_text_size;

enum {
  CAL_CTX = 256,    /* tokens per calibration sequence (each from position 0) */
  CAL_CHUNK = 64,   /* tokens per prefill call */
  PLACEMENTS = 2,   /* candidate windows tried per size */
};

/* ---- The loaded calibration build ----------------------------------------------------- */

typedef struct runner {
  cg_loaded code;
  int L;                 /* layers */
  int64_t T, d, vocab;   /* chunk, model width, vocabulary */
  void **bufs;           /* inputs, states, outputs in entry order */
  int nbufs;
  int32_t *tokens, *pos;
  float **switches;      /* [L]: index l for pair (l - 1, l); [0] unused */
  float *logits;         /* [T, vocab] */
  float *stream_in;      /* [T, d] */
  float **seq, **par;    /* [L] each [T, d]; par[0] unused */
} runner;

static int find_io(const tdm_io_tensor *io, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (strcmp(io[i].name, name) == 0) return i;
  return -1;
}

static void *alloc64(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
  memset(p, 0, n);
  return p;
}

static size_t bytes_of(const tdm_type *t) {
  size_t n = tandem_dtype_size(t->dtype);
  for (int d = 0; d < t->shape.rank; d++) n *= (size_t)t->shape.dim[d];
  return n;
}

static tdm_status runner_bind(runner *r, const tdm_entry *e) {
  r->nbufs = e->ninputs + e->nstates + e->noutputs;
  r->bufs = calloc((size_t)r->nbufs, sizeof *r->bufs);
  r->switches = calloc((size_t)r->L, sizeof *r->switches);
  r->seq = calloc((size_t)r->L, sizeof *r->seq);
  r->par = calloc((size_t)r->L, sizeof *r->par);
  if (!r->bufs || !r->switches || !r->seq || !r->par) return TDM_INTERNAL("out of memory");
  for (int i = 0; i < r->nbufs; i++) {
    const tdm_io_tensor *io = i < e->ninputs ? &e->inputs[i]
                              : i < e->ninputs + e->nstates ? &e->states[i - e->ninputs]
                                                             : &e->outputs[i - e->ninputs - e->nstates];
    if (!(r->bufs[i] = alloc64(bytes_of(&io->type)))) return TDM_INTERNAL("out of memory for the calibration buffers");
  }
  int it = find_io(e->inputs, e->ninputs, "tokens"), ip = find_io(e->inputs, e->ninputs, "pos");
  int il = find_io(e->outputs, e->noutputs, "logits"), is = find_io(e->outputs, e->noutputs, "stream_in");
  if (it < 0 || ip < 0 || il < 0 || is < 0) return TDM_INTERNAL("the calibration build's signature is not as built");
  r->tokens = r->bufs[it];
  r->pos = r->bufs[ip];
  int out0 = e->ninputs + e->nstates;
  r->logits = r->bufs[out0 + il];
  r->stream_in = r->bufs[out0 + is];
  r->T = e->inputs[it].type.shape.dim[0];
  if (r->T > CAL_CHUNK) return TDM_INTERNAL("the calibration build takes %lld tokens a call, more than %d", (long long)r->T, CAL_CHUNK);
  r->vocab = e->outputs[il].type.shape.dim[1];
  r->d = e->outputs[is].type.shape.dim[e->outputs[is].type.shape.rank - 1];
  char name[64];
  for (int l = 0; l < r->L; l++) {
    snprintf(name, sizeof name, "seq_%d", l);
    int k = find_io(e->outputs, e->noutputs, name);
    if (k < 0) return TDM_INTERNAL("the calibration build has no output %s", name);
    r->seq[l] = r->bufs[out0 + k];
    if (!l) continue;
    snprintf(name, sizeof name, "par_%d", l);
    k = find_io(e->outputs, e->noutputs, name);
    snprintf(name, sizeof name, "lp_switch_%d", l);
    int s = find_io(e->inputs, e->ninputs, name);
    if (k < 0 || s < 0) return TDM_INTERNAL("the calibration build has no pair %d", l);
    r->par[l] = r->bufs[out0 + k];
    r->switches[l] = r->bufs[s];
  }
  return NULL;
}

static void runner_free(runner *r) {
  for (int i = 0; r->bufs && i < r->nbufs; i++) free(r->bufs[i]);
  free(r->bufs);
  free(r->switches);
  free(r->seq);
  free(r->par);
  cg_loaded_close(&r->code);
}

/* Pairs (l - 1, l) for odd offsets l = start + 1, start + 3, ... < end run paired. */
static void set_window(runner *r, int start, int end) {
  for (int l = 1; l < r->L; l++) *r->switches[l] = 1.0f;
  for (int l = start + 1; l < end; l += 2) *r->switches[l] = 0.0f;
}

/* What a pass over a token set collects, per chunk. */
typedef void (*chunk_fn)(runner *r, const int32_t *ids, int n, int seq_pos, void *user);

/* Feeds `ids` as sequences of CAL_CTX tokens, each from position 0, in chunks. */
static void run_tokens(runner *r, const int32_t *ids, int n, chunk_fn fn, void *user) {
  for (int s0 = 0; s0 < n; s0 += CAL_CTX) {
    int len = n - s0 < CAL_CTX ? n - s0 : CAL_CTX;
    for (int c = 0; c < len; c += (int)r->T) {
      int m = len - c < r->T ? len - c : (int)r->T;
      for (int t = 0; t < r->T; t++) r->tokens[t] = t < m ? ids[s0 + c + t] : 0;
      *r->pos = c;
      r->code.fn(r->code.weights.data, r->bufs);
      fn(r, ids + s0 + c, m, c, user);
    }
  }
}

/* ---- Scores ------------------------------------------------------------------------------ */

typedef struct score_acc {
  double *num, *den;    /* [L]: sum ||par_l - seq_l||^2, sum ||seq_l - x||^2 */
  double *cos;          /* [L]: sum over tokens of cos(in_l, seq_l) */
  long tokens;
} score_acc;

static double dot(const float *a, const float *b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

static double dist2(const float *a, const float *b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
  return s;
}

static void score_chunk(runner *r, const int32_t *ids, int n, int seq_pos, void *user) {
  (void)ids, (void)seq_pos;
  score_acc *a = user;
  int64_t d = r->d;
  for (int t = 0; t < n; t++) {
    for (int l = 0; l < r->L; l++) {
      const float *in = (l ? r->seq[l - 1] : r->stream_in) + t * d, *out = r->seq[l] + t * d;
      double nn = sqrt(dot(in, in, d) * dot(out, out, d));
      a->cos[l] += nn > 0 ? dot(in, out, d) / nn : 1.0;
      if (!l) continue;
      const float *x = (l >= 2 ? r->seq[l - 2] : r->stream_in) + t * d;
      a->num[l] += dist2(r->par[l] + t * d, out, d);
      a->den[l] += dist2(out, x, d);
    }
  }
  a->tokens += n;
}

/* ---- Held-out evaluation ------------------------------------------------------------------ */

typedef struct eval_acc {
  float *base;          /* log-probabilities of the unmodified model [npred, vocab]; NULL while making it */
  int *base_top;        /* its argmax per prediction */
  long npred, cap;
  double nll, kld;
  long top1;
  int recording;
} eval_acc;

static void log_softmax(const float *z, int64_t n, float *out, int *top) {
  float mx = z[0];
  int arg = 0;
  for (int64_t i = 1; i < n; i++)
    if (z[i] > mx) mx = z[i], arg = (int)i;
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += exp((double)z[i] - mx);
  double lse = mx + log(s);
  for (int64_t i = 0; i < n; i++) out[i] = (float)(z[i] - lse);
  *top = arg;
}

/* Position t predicts token t + 1 of the same sequence; the sequence's last token
 * predicts nothing. Chunks of a sequence come in order, so the token after a
 * chunk's last is the next chunk's first: those are read from `ids` (still the
 * same sequence while seq_pos + t + 1 < CAL_CTX and inside the set). */
typedef struct eval_ctx {
  eval_acc *acc;
  const int32_t *all;   /* the whole held-out set */
  int n_all;
  float *scratch;       /* [chunk, vocab] */
} eval_ctx;

/* One prediction's figures, computed on the pool, added up in order afterwards (so
 * that the sums do not depend on the thread count). */
typedef struct eval_pos {
  double nll, kld;
  int top;
} eval_pos;

typedef struct eval_job {
  const runner *r;
  const eval_ctx *c;
  const int32_t *next;  /* the token each position predicts */
  eval_pos *pos;
} eval_job;

static void eval_task(void *ctx, int64_t begin, int64_t end) {
  const eval_job *j = ctx;
  const eval_acc *a = j->c->acc;
  int64_t vocab = j->r->vocab;
  for (int64_t t = begin; t < end; t++) {
    size_t row = (size_t)(a->npred + t) * (size_t)vocab;
    float *lp = a->recording ? a->base + row : j->c->scratch + (size_t)t * (size_t)vocab;
    eval_pos *p = &j->pos[t];
    log_softmax(j->r->logits + (size_t)t * (size_t)vocab, vocab, lp, &p->top);
    p->nll = -lp[j->next[t]];
    p->kld = 0;
    if (a->recording) continue;
    const float *base = a->base + row;
    for (int64_t v = 0; v < vocab; v++) p->kld += exp((double)base[v]) * ((double)base[v] - lp[v]);
  }
}

static void eval_chunk(runner *r, const int32_t *ids, int n, int seq_pos, void *user) {
  eval_ctx *c = user;
  eval_acc *a = c->acc;
  long at = (long)(ids - c->all);
  /* positions that predict a token of the same sequence */
  long m = n;
  if (m > CAL_CTX - 1 - seq_pos) m = CAL_CTX - 1 - seq_pos;
  if (m > c->n_all - 1 - at) m = c->n_all - 1 - at;
  if (m <= 0) return;
  eval_pos pos[CAL_CHUNK];
  eval_job j = {r, c, c->all + at + 1, pos};
  tandem_parallel_for(m, eval_task, &j);
  for (long t = 0; t < m; t++, a->npred++) {
    a->nll += pos[t].nll;
    if (a->recording) {
      a->base_top[a->npred] = pos[t].top;
    } else {
      a->kld += pos[t].kld;
      a->top1 += pos[t].top == a->base_top[a->npred];
    }
  }
}

static long count_predictions(int n) {
  long p = 0;
  for (int s0 = 0; s0 < n; s0 += CAL_CTX) p += (n - s0 < CAL_CTX ? n - s0 : CAL_CTX) - 1;
  return p;
}

static void evaluate(runner *r, eval_acc *a, const int32_t *ids, int n, float *scratch) {
  a->npred = 0, a->nll = 0, a->kld = 0, a->top1 = 0;
  eval_ctx c = {a, ids, n, scratch};
  run_tokens(r, ids, n, eval_chunk, &c);
}

/* ---- Choosing ------------------------------------------------------------------------------ */

static tdm_status add_candidate(lp_auto_result *out, const lp_candidate *c) {
  lp_candidate *p = realloc(out->cands, sizeof *p * (size_t)(out->ncands + 1));
  if (!p) return TDM_INTERNAL("out of memory");
  out->cands = p;
  out->cands[out->ncands++] = *c;
  return NULL;
}

static double window_score(const lp_auto_result *r, int start, int end) {
  double s = 0;
  for (int l = start + 1; l < end; l += 2) s += r->pairs[l - 1].rel_error;
  return s;
}

static tdm_status search(runner *rn, lp_auto_result *out, const lp_auto_options *o, eval_acc *ev, const int32_t *held,
                         int nheld, float *scratch) {
  int L = out->nlayers, misses = 0;
  out->start = out->end = 0;
  double best_ppl = 0;
  for (int size = 2; size <= L && misses < 2; size += 2) {
    /* The best-scoring placements of this size. */
    int starts[PLACEMENTS], n = 0;
    for (int k = 0; k < PLACEMENTS; k++) {
      int pick = -1;
      for (int s = 0; s + size <= L; s++) {
        int used = 0;
        for (int j = 0; j < n; j++) used |= starts[j] == s;
        if (!used && (pick < 0 || window_score(out, s, s + size) < window_score(out, pick, pick + size))) pick = s;
      }
      if (pick >= 0) starts[n++] = pick;
    }
    int any = 0;
    for (int k = 0; k < n; k++) {
      set_window(rn, starts[k], starts[k] + size);
      evaluate(rn, ev, held, nheld, scratch);
      lp_candidate c = {starts[k], starts[k] + size, 0, 0, 0, 0, 0};
      double np = ev->npred ? (double)ev->npred : 1;
      c.ppl = exp(ev->nll / np);
      c.kld = ev->kld / np;
      c.top1 = ev->top1 / np;
      c.ppl_increase = 100.0 * (c.ppl / out->base_ppl - 1.0);
      c.within_budget = c.ppl_increase <= o->budget;
      TDM_TRY(add_candidate(out, &c));
      if (!c.within_budget) continue;
      any = 1;
      if (size > out->end - out->start || (size == out->end - out->start && c.ppl < best_ppl)) {
        out->start = c.start, out->end = c.end;
        best_ppl = c.ppl;
      }
    }
    misses = any ? 0 : misses + 1;
  }
  return NULL;
}

/* Seconds since *t, and *t moved to now. */
static double lap(struct timespec *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double s = (double)(now.tv_sec - t->tv_sec) + 1e-9 * (double)(now.tv_nsec - t->tv_nsec);
  *t = now;
  return s;
}

/* ---- Setting up ------------------------------------------------------------------------------ */

static tdm_status tokenize(tdm_session *s, int tokenizer_file, const char *text, size_t len, int32_t **ids,
                           size_t *n) {
  const tdm_weight_file *f = &s->files[tokenizer_file];
  uint8_t *ser = NULL;
  size_t ser_size = 0;
  TDM_TRY(fe_gguf_tokenizer(f->path, f->map.data, f->map.size, &ser, &ser_size));
  tandem_tokenizer *tok = NULL;
  tandem_status ts = tandem_tokenizer_open(ser, ser_size, &tok);
  if (!ts) ts = tandem_tokenize(tok, text, len, 1, 0, ids, n);
  tdm_status st = ts ? TDM_BAD("%s: tokenizer: %s", f->path, tandem_status_message(ts)) : NULL;
  tandem_status_free(ts);
  tandem_tokenizer_close(tok);
  free(ser);
  return st;
}

static int llm_tokenizer_file(MlirModule m) {
  MlirAttribute a = mlirOperationGetAttributeByName(mlirModuleGetOperation(m), tdm_str("tdm.llm"));
  if (mlirAttributeIsNull(a) || !mlirAttributeIsADictionary(a)) return -1;
  MlirAttribute tf = mlirDictionaryAttrGetElementByName(a, tdm_str("tokenizer_file"));
  return mlirAttributeIsNull(tf) || !mlirAttributeIsAInteger(tf) ? -1 : (int)mlirIntegerAttrGetValueInt(tf);
}

/* Imports the model into `s`, builds and loads the calibration build; tokenizes the text. */
static tdm_status prepare(tdm_session *s, const char *model, const lp_auto_options *o, const cg_target *target,
                          runner *r, int32_t **ids, size_t *nids) {
  MlirModule m = {NULL};
  TDM_TRY(fe_import(s, model, &m));
  int tf = llm_tokenizer_file(m);
  tdm_status st = tf >= 0 && tf < s->nfiles && s->files[tf].path
                      ? NULL
                      : tdm_error(TDM_EXIT_USAGE,
                                  "%s: --lp=auto calibrates on text, so it needs a language model (GGUF); "
                                  "give this graph a window with --lp=START:END (see --lp-list)", model);
  char *text = NULL;
  size_t len = 0;
  if (!st && o->calibration) st = tdm_file_read(o->calibration, &text, &len);
  if (!st) st = tokenize(s, tf, text ? text : tdm_calibration_text, text ? len : tdm_calibration_text_size, ids, nids);
  free(text);
  if (!st && *nids < 32)
    st = TDM_BAD("%s: the calibration text is %zu tokens; --lp=auto needs at least 32",
                 o->calibration ? o->calibration : "(built-in text)", *nids);
  if (!st) st = tdm_lp_calibration_graph(m, "prefill", &r->L);
  tdm_pipeline_options po = {.stop_after = TDM_PHASE_LLVM};
  if (!st) st = tdm_pipeline_run(s, m, &po);
  if (!st) st = cg_load_in_process(s, m, target, "prefill", &r->code);
  if (!st) st = runner_bind(r, tdm_session_entry(s, "prefill"));
  if (!mlirModuleIsNull(m)) mlirModuleDestroy(m);
  return st;
}

tdm_status lp_auto_choose(const char *model, const lp_auto_options *o, const cg_target *target,
                          lp_auto_result *out) {
  memset(out, 0, sizeof *out);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  t = t0;
  /* The calibration build allocates its activations (tens of MB) on every call: keep
   * them in the heap, not trimmed back to the system after each call and faulted in
   * again (which took a fifth of the calibration's time, in the kernel). */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  tdm_session *s = NULL;
  TDM_TRY(tdm_session_create(&s));
  snprintf(s->model_name, sizeof s->model_name, "calibration");
  s->vector_bits = cg_vector_bits(target);
  s->llm_ctx = CAL_CTX;
  s->llm_prefill = CAL_CHUNK;
  s->weights_type = o->weights_type;
  s->kv_f16 = o->kv_f16;
  s->gemm_mlir = o->gemm_mlir;
  runner r = {0};
  int32_t *ids = NULL;
  size_t nids = 0;
  tdm_status st = prepare(s, model, o, target, &r, &ids, &nids);
  double build_s = lap(&t);
  /* Scored tokens first, held-out ones after: `tokens` each, or half the text each. */
  int half = (int)(nids / 2), nscore = half < o->tokens ? half : o->tokens;
  int nheld = (int)nids - nscore < o->tokens ? (int)nids - nscore : o->tokens;
  const int32_t *held = ids + nscore;
  score_acc sa = {0};
  eval_acc ev = {0};
  float *scratch = NULL;
  if (!st) {
    out->nlayers = r.L;
    out->scored_tokens = nscore;
    out->heldout_tokens = nheld;
    out->cosine = calloc((size_t)r.L, sizeof *out->cosine);
    out->pairs = calloc((size_t)r.L, sizeof *out->pairs);
    sa.num = calloc((size_t)r.L, sizeof(double));
    sa.den = calloc((size_t)r.L, sizeof(double));
    sa.cos = calloc((size_t)r.L, sizeof(double));
    ev.cap = count_predictions(nheld);
    ev.base = malloc(sizeof(float) * (size_t)(ev.cap ? ev.cap : 1) * (size_t)r.vocab);
    ev.base_top = malloc(sizeof(int) * (size_t)(ev.cap ? ev.cap : 1));
    scratch = malloc(sizeof(float) * (size_t)r.T * (size_t)r.vocab);
    if (!out->cosine || !out->pairs || !sa.num || !sa.den || !sa.cos || !ev.base || !ev.base_top || !scratch)
      st = TDM_INTERNAL("out of memory for calibration");
  }
  if (!st) {
    fprintf(stderr, "tandemc: --lp=auto: scoring %d layer pairs on %d tokens, testing windows on %d more\n",
            r.L - 1, nscore, nheld);
    set_window(&r, 0, 0);
    out->build_s = build_s;
    run_tokens(&r, ids, nscore, score_chunk, &sa);
    out->score_s = lap(&t);
    for (int l = 0; l < r.L; l++) {
      out->cosine[l] = sa.tokens ? sa.cos[l] / (double)sa.tokens : 0;
      if (l) out->pairs[l - 1].rel_error = sa.den[l] > 0 ? sqrt(sa.num[l] / sa.den[l]) : 0;
    }
    ev.recording = 1;
    evaluate(&r, &ev, held, nheld, scratch);
    ev.recording = 0;
    out->base_ppl = exp(ev.nll / (double)(ev.npred ? ev.npred : 1));
    out->base_s = lap(&t);
    st = search(&r, out, o, &ev, held, nheld, scratch);
    out->search_s = lap(&t);
  }
  free(sa.num), free(sa.den), free(sa.cos);
  free(ev.base), free(ev.base_top), free(scratch);
  free(ids);
  runner_free(&r);
  tdm_session_destroy(s);
  out->seconds = lap(&t0);
  out->threads = tandem_threads();
  if (st) lp_auto_result_free(out);
  return st;
}

void lp_auto_result_free(lp_auto_result *r) {
  free(r->cosine);
  free(r->pairs);
  free(r->cands);
  memset(r, 0, sizeof *r);
}
