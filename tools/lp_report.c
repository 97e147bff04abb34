/* --lp-report=FILE.json and FILE.svg: what layer parallelism measured and chose. */
#include <math.h>
#include <string.h>

#include "tools/lp_auto.h"

static void json_str(strbuf *sb, const char *s) {
  sb_puts(sb, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') sb_printf(sb, "\\%c", *p);
    else if (*p < 0x20) sb_printf(sb, "\\u%04x", *p);
    else sb_append(sb, (const char *)p, 1);
  }
  sb_puts(sb, "\"");
}

static void json_num(strbuf *sb, double v) {
  if (isfinite(v)) sb_printf(sb, "%.6g", v);
  else sb_puts(sb, "null");
}

static void write_json(strbuf *j, const char *model, const lp_auto_options *o, const lp_auto_result *r, int start,
                       int end, const tdm_lp_stats *st) {
  sb_puts(j, "{\n  \"model\": ");
  json_str(j, model);
  sb_printf(j, ",\n  \"mode\": \"%s\",\n", r ? "auto" : start < end ? "window" : "off");
  if (r) {
    sb_puts(j, "  \"budget_percent\": ");
    json_num(j, o->budget);
    sb_puts(j, ",\n  \"calibration\": {\"file\": ");
    if (o->calibration) json_str(j, o->calibration);
    else sb_puts(j, "null");
    sb_printf(j, ", \"scored_tokens\": %d, \"heldout_tokens\": %d, \"threads\": %d, \"seconds\": ",
              r->scored_tokens, r->heldout_tokens, r->threads);
    json_num(j, r->seconds);
    const char *phase[4] = {"build", "scoring", "baseline", "candidates"};
    double secs[4] = {r->build_s, r->score_s, r->base_s, r->search_s};
    sb_puts(j, ", \"phase_seconds\": {");
    for (int i = 0; i < 4; i++) {
      sb_printf(j, "%s\"%s\": ", i ? ", " : "", phase[i]);
      json_num(j, secs[i]);
    }
    sb_puts(j, "}},\n  \"layers\": [");
    for (int l = 0; l < r->nlayers; l++) {
      sb_printf(j, "%s\n    {\"index\": %d, \"cosine_in_out\": ", l ? "," : "", l);
      json_num(j, r->cosine[l]);
      sb_puts(j, "}");
    }
    sb_puts(j, "\n  ],\n  \"pairs\": [");
    for (int l = 0; l + 1 < r->nlayers; l++) {
      sb_printf(j, "%s\n    {\"layers\": [%d, %d], \"rel_error\": ", l ? "," : "", l, l + 1);
      json_num(j, r->pairs[l].rel_error);
      sb_puts(j, "}");
    }
    sb_puts(j, "\n  ],\n  \"baseline\": {\"perplexity\": ");
    json_num(j, r->base_ppl);
    sb_puts(j, "},\n  \"candidates\": [");
    for (int i = 0; i < r->ncands; i++) {
      const lp_candidate *c = &r->cands[i];
      sb_printf(j, "%s\n    {\"start\": %d, \"end\": %d, \"size\": %d, \"perplexity\": ", i ? "," : "", c->start,
                c->end, c->end - c->start);
      json_num(j, c->ppl);
      sb_puts(j, ", \"perplexity_increase_percent\": ");
      json_num(j, c->ppl_increase);
      sb_puts(j, ", \"mean_kld\": ");
      json_num(j, c->kld);
      sb_puts(j, ", \"top1_agreement\": ");
      json_num(j, c->top1);
      sb_printf(j, ", \"within_budget\": %s}", c->within_budget ? "true" : "false");
    }
    sb_puts(j, "\n  ],\n");
  }
  sb_printf(j, "  \"chosen\": {\"start\": %d, \"end\": %d, \"size\": %d, \"pairs\": [", start, end, end - start);
  for (int i = start; i + 1 < end; i += 2) sb_printf(j, "%s[%d, %d]", i > start ? ", " : "", i, i + 1);
  sb_printf(j, "]},\n  \"gemms_per_token\": {\"before\": %d, \"after\": %d},\n", st->gemms_before, st->gemms_after);
  sb_printf(j, "  \"sync_points_per_token\": {\"before\": %d, \"after\": %d}\n}\n", st->syncs_before, st->syncs_after);
}

/* ---- The chart ---------------------------------------------------------------------------- */

enum { W = 760, LEFT = 70, RIGHT = 730 };

static void text(strbuf *s, double x, double y, const char *anchor, int size, const char *str) {
  sb_printf(s, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">%s</text>\n", x, y, anchor,
            size, str);
}

static void number(strbuf *s, double x, double y, const char *anchor, int size, const char *fmt, double v) {
  char buf[64];
  snprintf(buf, sizeof buf, fmt, v);
  text(s, x, y, anchor, size, buf);
}

static int in_window(int pair_first, int start, int end) {
  return pair_first >= start && pair_first + 1 < end && (pair_first - start) % 2 == 0;
}

/* Panel: one bar per pair, its relative error; the chosen pairs in orange. */
static void pair_panel(strbuf *s, const lp_auto_result *r, int start, int end, double top, double h) {
  int n = r->nlayers - 1;
  double mx = 0;
  for (int i = 0; i < n; i++) mx = fmax(mx, r->pairs[i].rel_error);
  if (mx <= 0) mx = 1;
  double bw = (RIGHT - LEFT) / (double)(n > 0 ? n : 1);
  text(s, LEFT, top - 12, "start", 14, "Pair relative error ||y_LP - y_seq|| / ||y_seq - x|| (orange: chosen)");
  for (int k = 0; k <= 4; k++) {
    double y = top + h - h * k / 4.0;
    sb_printf(s, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", LEFT, y, RIGHT, y);
    number(s, LEFT - 6, y + 4, "end", 11, "%.3g", mx * k / 4.0);
  }
  for (int i = 0; i < n; i++) {
    double v = r->pairs[i].rel_error, bh = h * v / mx, x = LEFT + i * bw;
    sb_printf(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>layers %d+%d: %.4g</title></rect>\n",
              x + bw * 0.1, top + h - bh, bw * 0.8, bh, in_window(i, start, end) ? "#e6862e" : "#4a7fb5", i, i + 1, v);
    if (n <= 32 || i % 5 == 0) number(s, x + bw / 2, top + h + 14, "middle", 10, "%.0f", i);
  }
  text(s, (LEFT + RIGHT) / 2.0, top + h + 30, "middle", 11, "pair (i, i+1), by i");
}

/* Panel: each candidate window's perplexity increase against its size; the budget. */
static void candidate_panel(strbuf *s, const lp_auto_result *r, const lp_auto_options *o, int start, int end,
                            double top, double h) {
  double mx = o->budget * 1.5;
  int maxsize = 2;
  for (int i = 0; i < r->ncands; i++) {
    mx = fmax(mx, r->cands[i].ppl_increase);
    if (r->cands[i].end - r->cands[i].start > maxsize) maxsize = r->cands[i].end - r->cands[i].start;
  }
  if (!(mx > 0)) mx = 1;
  text(s, LEFT, top - 12, "start", 14, "Held-out perplexity increase (%) by window size; dashed: the budget");
  for (int k = 0; k <= 4; k++) {
    double y = top + h - h * k / 4.0;
    sb_printf(s, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", LEFT, y, RIGHT, y);
    number(s, LEFT - 6, y + 4, "end", 11, "%.3g", mx * k / 4.0);
  }
  double by = top + h - h * o->budget / mx;
  sb_printf(s, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#c33\" stroke-dasharray=\"6,4\"/>\n", LEFT,
            by, RIGHT, by);
  for (int size = 2; size <= maxsize; size += 2)
    number(s, LEFT + (RIGHT - LEFT) * size / (double)(maxsize + 2), top + h + 14, "middle", 10, "%.0f", size);
  for (int i = 0; i < r->ncands; i++) {
    const lp_candidate *c = &r->cands[i];
    double x = LEFT + (RIGHT - LEFT) * (c->end - c->start) / (double)(maxsize + 2);
    double y = top + h - h * fmin(fmax(c->ppl_increase, 0), mx) / mx;
    int chosen = c->start == start && c->end == end;
    sb_printf(s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"><title>layers %d..%d: ppl %.4g (%+.2f%%), KLD %.4g, top-1 %.1f%%</title></circle>\n",
              x, y, chosen ? 7 : 4, chosen ? "#e6862e" : c->within_budget ? "#4a7fb5" : "#999", c->start, c->end - 1,
              c->ppl, c->ppl_increase, c->kld, 100 * c->top1);
  }
  text(s, (LEFT + RIGHT) / 2.0, top + h + 30, "middle", 11, "window size (layers)");
}

static void write_svg(strbuf *s, const lp_auto_options *o, const lp_auto_result *r, int start, int end,
                      const tdm_lp_stats *st) {
  int H = r ? 520 : 120;
  sb_printf(s, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n", W, H);
  sb_printf(s, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
  if (r) {
    pair_panel(s, r, start, end, 50, 150);
    candidate_panel(s, r, o, start, end, 290, 150);
  }
  double y = H - 36;
  sb_printf(s, "<text x=\"%d\" y=\"%.1f\" font-size=\"13\">", LEFT, y);
  if (start < end) sb_printf(s, "window: layers %d..%d (%d pairs)", start, end - 1, (end - start) / 2);
  else sb_puts(s, "window: none (no pairs)");
  sb_puts(s, "</text>\n");
  sb_printf(s, "<text x=\"%d\" y=\"%.1f\" font-size=\"13\">GEMMs per token %d -> %d; residual sync points %d -> %d</text>\n",
            LEFT, y + 18, st->gemms_before, st->gemms_after, st->syncs_before, st->syncs_after);
  sb_puts(s, "</svg>\n");
}

tdm_status lp_report_write(tdm_outputs *outs, const char *json_path, const char *model, const lp_auto_options *o,
                           const lp_auto_result *r, int start, int end, const tdm_lp_stats *stats) {
  strbuf j, svg, svg_path;
  sb_init(&j), sb_init(&svg), sb_init(&svg_path);
  write_json(&j, model, o, r, start, end, stats);
  write_svg(&svg, o, r, start, end, stats);
  size_t n = strlen(json_path);
  if (n > 5 && strcmp(json_path + n - 5, ".json") == 0) sb_append(&svg_path, json_path, n - 5);
  else sb_puts(&svg_path, json_path);
  sb_puts(&svg_path, ".svg");
  tdm_status st = sb_failed(&j) || sb_failed(&svg) ? TDM_INTERNAL("out of memory") : NULL;
  FILE *fp;
  if (!st) st = tdm_outputs_stage(outs, json_path, 0, &fp, NULL);
  if (!st) st = tdm_write_all(fp, j.data, j.len, json_path);
  if (!st) st = tdm_outputs_stage(outs, sb_str(&svg_path), 0, &fp, NULL);
  if (!st) st = tdm_write_all(fp, svg.data, svg.len, sb_str(&svg_path));
  sb_free(&j), sb_free(&svg), sb_free(&svg_path);
  return st;
}
