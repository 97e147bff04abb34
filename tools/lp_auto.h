/* --lp=auto: choose the layer-parallel window by measuring the model.
 *
 * Compiles a calibration build of the model's @prefill in process (a shared
 * object loaded with dlopen) in which every adjacent pair of layers also runs in
 * its paired form beside the sequential one, with a switch per pair. One run over
 * the calibration tokens with every switch sequential gives each pair's relative
 * error ||y_LP - y_seq|| / ||y_seq - x|| and each layer's input/output cosine;
 * then candidate windows (the best-scoring placements of each size) run on
 * held-out tokens with their pairs switched to parallel, and their perplexity
 * and KL divergence against the unmodified model decide. The largest window
 * within the budget wins. */
#ifndef TANDEM_TOOLS_LP_AUTO_H
#define TANDEM_TOOLS_LP_AUTO_H

#include "codegen/codegen.h"
#include "ir/session.h"

typedef struct lp_auto_options {
  const char *calibration; /* text file; NULL: the built-in text */
  double budget;           /* maximum perplexity increase, percent */
  int tokens;              /* tokens scored, and as many held out */
  const char *report;      /* FILE.json (and FILE.svg); NULL: none */
  const char *weights_type; /* --weights-type, so that calibration runs the model's numbers */
  int kv_f16;               /* --kv-type=f16, likewise */
  int gemm_mlir;            /* --gemm=mlir, likewise */
} lp_auto_options;

typedef struct lp_pair_score {
  double rel_error;  /* ||y_LP - y_seq|| / ||y_seq - x|| over the scored tokens */
} lp_pair_score;

typedef struct lp_candidate {
  int start, end;          /* layers [start, end) */
  double ppl, kld, top1;   /* on the held-out tokens; kld and top-1 against the unmodified model */
  double ppl_increase;     /* percent over the unmodified model */
  int within_budget;
} lp_candidate;

typedef struct lp_auto_result {
  int nlayers;
  double *cosine;          /* [nlayers]: mean cos(layer input, layer output) */
  lp_pair_score *pairs;    /* [nlayers - 1]: pair (i, i + 1) */
  lp_candidate *cands;
  int ncands;
  double base_ppl;         /* the unmodified model on the held-out tokens */
  int scored_tokens, heldout_tokens;
  int start, end;          /* the choice; start == end: none within budget */
  double seconds;          /* calibration time */
  double build_s, score_s, base_s, search_s; /* its phases: import and calibration build,
                                              * scoring pass, unmodified model on the
                                              * held-out tokens, candidate windows */
  int threads;             /* it ran on (the runtime's pool, include/tandem/runtime.h) */
} lp_auto_result;

/* Measures `model` (a GGUF LLM) and chooses the window. `target` is the machine to
 * compile the calibration build for. */
tdm_status lp_auto_choose(const char *model, const lp_auto_options *o, const cg_target *target,
                          lp_auto_result *out);
void lp_auto_result_free(lp_auto_result *r);

/* Writes the report: JSON to `json_path` and an SVG chart beside it (PATH.svg for
 * PATH.json), staged in `outs`. `r` may be NULL (a window given by --lp=START:END). */
tdm_status lp_report_write(tdm_outputs *outs, const char *json_path, const char *model, const lp_auto_options *o,
                           const lp_auto_result *r, int start, int end, const tdm_lp_stats *stats);

#endif
