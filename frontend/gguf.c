/* GGUF reader. Format: little-endian; "GGUF", u32 version (2 or 3), u64 tensor
 * count, u64 metadata count; metadata (string key, u32 type, value); tensor infos
 * (string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset); padding to
 * general.alignment (default 32); the data section. Strings are u64 length + bytes. */
#include "frontend/gguf.h"

#include <stdlib.h>
#include <string.h>

typedef struct cursor {
  const gguf_file *f;
  uint64_t pos;
} cursor;

static tdm_status truncated(const cursor *c, const char *what) {
  return TDM_BAD("%s: truncated or corrupt GGUF: %s at byte %llu runs past the end (%zu bytes)",
                 c->f->path, what, (unsigned long long)c->pos, c->f->size);
}

static tdm_status need(const cursor *c, uint64_t n, const char *what) {
  if (n > c->f->size || c->pos > c->f->size - n) return truncated(c, what);
  return NULL;
}

static uint64_t le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static tdm_status read_u(cursor *c, int n, uint64_t *out, const char *what) {
  TDM_TRY(need(c, (uint64_t)n, what));
  *out = le(c->f->data + c->pos, n);
  c->pos += (uint64_t)n;
  return NULL;
}

static tdm_status read_str(cursor *c, gguf_str *out, const char *what) {
  uint64_t len;
  TDM_TRY(read_u(c, 8, &len, what));
  TDM_TRY(need(c, len, what));
  out->data = (const char *)c->f->data + c->pos;
  out->len = len;
  c->pos += len;
  return NULL;
}

static const int scalar_size[GGUF_TYPE_COUNT] = {
    [GGUF_UINT8] = 1, [GGUF_INT8] = 1, [GGUF_UINT16] = 2, [GGUF_INT16] = 2,
    [GGUF_UINT32] = 4, [GGUF_INT32] = 4, [GGUF_FLOAT32] = 4, [GGUF_BOOL] = 1,
    [GGUF_UINT64] = 8, [GGUF_INT64] = 8, [GGUF_FLOAT64] = 8,
};

static void decode_scalar(gguf_kv *kv, uint32_t type, const uint8_t *p) {
  uint64_t raw = le(p, scalar_size[type]);
  switch (type) {
    case GGUF_INT8: kv->v.i = (int8_t)raw; break;
    case GGUF_INT16: kv->v.i = (int16_t)raw; break;
    case GGUF_INT32: kv->v.i = (int32_t)raw; break;
    case GGUF_INT64: kv->v.i = (int64_t)raw; break;
    case GGUF_FLOAT32: { uint32_t b = (uint32_t)raw; float f; memcpy(&f, &b, 4); kv->v.f = f; break; }
    case GGUF_FLOAT64: memcpy(&kv->v.f, &raw, 8); break;
    default: kv->v.u = raw;
  }
}

static tdm_status read_value(cursor *c, gguf_kv *kv) {
  uint64_t t;
  TDM_TRY(read_u(c, 4, &t, "a metadata type"));
  if (t >= GGUF_TYPE_COUNT)
    return TDM_BAD("%s: metadata '%.*s' has unknown type %llu", c->f->path, (int)kv->key.len, kv->key.data,
                   (unsigned long long)t);
  kv->type = (uint32_t)t;
  kv->data = c->f->data + c->pos;
  if (t == GGUF_STRING) return read_str(c, &kv->v.s, "a string value");
  if (t != GGUF_ARRAY) {
    TDM_TRY(need(c, (uint64_t)scalar_size[t], "a metadata value"));
    decode_scalar(kv, (uint32_t)t, c->f->data + c->pos);
    c->pos += (uint64_t)scalar_size[t];
    return NULL;
  }
  uint64_t et, count;
  TDM_TRY(read_u(c, 4, &et, "an array type"));
  TDM_TRY(read_u(c, 8, &count, "an array length"));
  if (et >= GGUF_TYPE_COUNT || et == GGUF_ARRAY)
    return TDM_BAD("%s: metadata '%.*s' is an array of unsupported type %llu", c->f->path,
                   (int)kv->key.len, kv->key.data, (unsigned long long)et);
  kv->elem_type = (uint32_t)et;
  kv->count = count;
  kv->data = c->f->data + c->pos;
  if (et != GGUF_STRING) {
    uint64_t w = (uint64_t)scalar_size[et];
    if (count > (c->f->size - c->pos) / w) return truncated(c, "an array");
    c->pos += count * w;
    return NULL;
  }
  /* A string takes at least 8 bytes: the count is bounded by the file before any
   * allocation. */
  if (count > (c->f->size - c->pos) / 8) return truncated(c, "an array of strings");
  kv->items = malloc(sizeof *kv->items * (size_t)(count ? count : 1));
  if (!kv->items) return TDM_INTERNAL("out of memory");
  for (uint64_t i = 0; i < count; i++) {
    kv->items[i] = c->f->data + c->pos;
    gguf_str s;
    TDM_TRY(read_str(c, &s, "a string in an array"));
  }
  return NULL;
}

int gguf_type_block(uint32_t type, uint64_t *elems, uint64_t *bytes) {
  switch (type) {
    case GGML_F32: *elems = 1, *bytes = 4; return 1;
    case GGML_F16: *elems = 1, *bytes = 2; return 1;
    case GGML_BF16: *elems = 1, *bytes = 2; return 1;
    case GGML_Q4_0: *elems = 32, *bytes = 18; return 1;
    case GGML_Q4_1: *elems = 32, *bytes = 20; return 1;
    case GGML_Q8_0: *elems = 32, *bytes = 34; return 1;
    default: return 0;
  }
}

const char *gguf_type_name(uint32_t type) {
  switch (type) {
    case GGML_F32: return "f32";
    case GGML_F16: return "f16";
    case GGML_BF16: return "bf16";
    case GGML_Q4_0: return "q4_0";
    case GGML_Q4_1: return "q4_1";
    case GGML_Q8_0: return "q8_0";
    default: return "unsupported";
  }
}

static tdm_status read_tensor(cursor *c, gguf_tensor *t) {
  TDM_TRY(read_str(c, &t->name, "a tensor name"));
  uint64_t nd, type, off;
  TDM_TRY(read_u(c, 4, &nd, "a tensor's dimension count"));
  if (nd < 1 || nd > 4)
    return TDM_BAD("%s: tensor '%.*s' has %llu dimensions (1 to 4 are valid)", c->f->path,
                   (int)t->name.len, t->name.data, (unsigned long long)nd);
  t->n_dims = (uint32_t)nd;
  uint64_t numel = 1;
  for (uint32_t i = 0; i < 4; i++) t->ne[i] = 1;
  for (uint32_t i = 0; i < t->n_dims; i++) {
    TDM_TRY(read_u(c, 8, &t->ne[i], "a tensor dimension"));
    if (t->ne[i] == 0 || t->ne[i] > (UINT64_C(1) << 40) || numel > (UINT64_C(1) << 40) / t->ne[i])
      return TDM_BAD("%s: tensor '%.*s' has an invalid shape", c->f->path, (int)t->name.len, t->name.data);
    numel *= t->ne[i];
  }
  TDM_TRY(read_u(c, 4, &type, "a tensor type"));
  TDM_TRY(read_u(c, 8, &off, "a tensor offset"));
  t->type = (uint32_t)type;
  t->offset = off; /* relative until the data section is known */
  uint64_t be, bb;
  if (!gguf_type_block(t->type, &be, &bb)) {
    t->size = 0;
    return NULL; /* an unsupported type is an error only if the tensor is used */
  }
  if (t->ne[0] % be)
    return TDM_BAD("%s: tensor '%.*s': %llu columns is not a whole number of %s blocks", c->f->path,
                   (int)t->name.len, t->name.data, (unsigned long long)t->ne[0], gguf_type_name(t->type));
  t->size = numel / be * bb;
  return NULL;
}

static tdm_status parse(const char *path, const uint8_t *data, size_t size, gguf_file *out) {
  out->path = path;
  out->data = data;
  out->size = size;
  cursor c = {out, 0};
  if (size < 4 || memcmp(data, "GGUF", 4) != 0) return TDM_BAD("%s: not a GGUF file (no \"GGUF\" magic)", path);
  c.pos = 4;
  uint64_t v;
  TDM_TRY(read_u(&c, 4, &v, "the version"));
  if (v != 2 && v != 3) return TDM_BAD("%s: GGUF version %llu is not supported (2 and 3 are)", path, (unsigned long long)v);
  out->version = (uint32_t)v;
  TDM_TRY(read_u(&c, 8, &out->n_tensors, "the tensor count"));
  TDM_TRY(read_u(&c, 8, &out->n_kv, "the metadata count"));
  /* Each entry takes at least 12 bytes: bound the counts by the file first. */
  if (out->n_kv > size / 12 || out->n_tensors > size / 12)
    return TDM_BAD("%s: corrupt GGUF: %llu metadata entries and %llu tensors cannot fit in %zu bytes", path,
                   (unsigned long long)out->n_kv, (unsigned long long)out->n_tensors, size);
  out->kv = calloc((size_t)out->n_kv + 1, sizeof *out->kv);
  out->tensors = calloc((size_t)out->n_tensors + 1, sizeof *out->tensors);
  if (!out->kv || !out->tensors) return TDM_INTERNAL("out of memory");
  for (uint64_t i = 0; i < out->n_kv; i++) {
    TDM_TRY(read_str(&c, &out->kv[i].key, "a metadata key"));
    TDM_TRY(read_value(&c, &out->kv[i]));
  }
  out->alignment = 32;
  const gguf_kv *al = gguf_find(out, "general.alignment");
  if (al) {
    if (al->type != GGUF_UINT32 || al->v.u == 0 || (al->v.u & (al->v.u - 1)) || al->v.u > 65536)
      return TDM_BAD("%s: general.alignment must be a power of two up to 65536", path);
    out->alignment = (uint32_t)al->v.u;
  }
  for (uint64_t i = 0; i < out->n_tensors; i++) TDM_TRY(read_tensor(&c, &out->tensors[i]));
  out->data_offset = (c.pos + out->alignment - 1) / out->alignment * out->alignment;
  for (uint64_t i = 0; i < out->n_tensors; i++) {
    gguf_tensor *t = &out->tensors[i];
    if (t->offset % out->alignment)
      return TDM_BAD("%s: tensor '%.*s' is not aligned to %u bytes", path, (int)t->name.len, t->name.data,
                     out->alignment);
    if (t->offset > size || out->data_offset > size - t->offset || t->size > size - out->data_offset - t->offset)
      return TDM_BAD("%s: tensor '%.*s' (%llu bytes at offset %llu) lies past the end of the file", path,
                     (int)t->name.len, t->name.data, (unsigned long long)t->size,
                     (unsigned long long)t->offset);
    t->offset += out->data_offset;
  }
  return NULL;
}

tdm_status gguf_parse(const char *path, const uint8_t *data, size_t size, gguf_file *out) {
  memset(out, 0, sizeof *out);
  tdm_status st = parse(path, data, size, out);
  if (st) gguf_free(out); /* what a partial parse allocated */
  return st;
}

void gguf_free(gguf_file *f) {
  for (uint64_t i = 0; f->kv && i < f->n_kv; i++) free(f->kv[i].items);
  free(f->kv);
  free(f->tensors);
  memset(f, 0, sizeof *f);
}

int gguf_str_eq(gguf_str s, const char *c) { return strlen(c) == s.len && memcmp(s.data, c, s.len) == 0; }

const gguf_kv *gguf_find(const gguf_file *f, const char *key) {
  for (uint64_t i = 0; i < f->n_kv; i++)
    if (gguf_str_eq(f->kv[i].key, key)) return &f->kv[i];
  return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
  for (uint64_t i = 0; i < f->n_tensors; i++)
    if (gguf_str_eq(f->tensors[i].name, name)) return &f->tensors[i];
  return NULL;
}

tdm_status gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out) {
  const gguf_kv *kv = gguf_find(f, key);
  if (!kv) return TDM_BAD("%s: missing metadata '%s'", f->path, key);
  if (kv->type == GGUF_UINT32 || kv->type == GGUF_UINT64 || kv->type == GGUF_UINT16 || kv->type == GGUF_UINT8) {
    if (kv->v.u > UINT32_MAX) return TDM_BAD("%s: metadata '%s' is too large", f->path, key);
    *out = (uint32_t)kv->v.u;
    return NULL;
  }
  if ((kv->type == GGUF_INT32 || kv->type == GGUF_INT64) && kv->v.i >= 0 && kv->v.i <= (int64_t)UINT32_MAX) {
    *out = (uint32_t)kv->v.i;
    return NULL;
  }
  return TDM_BAD("%s: metadata '%s' is not a non-negative integer", f->path, key);
}

tdm_status gguf_get_f32(const gguf_file *f, const char *key, float *out) {
  const gguf_kv *kv = gguf_find(f, key);
  if (!kv) return TDM_BAD("%s: missing metadata '%s'", f->path, key);
  if (kv->type != GGUF_FLOAT32 && kv->type != GGUF_FLOAT64)
    return TDM_BAD("%s: metadata '%s' is not a number", f->path, key);
  *out = (float)kv->v.f;
  return NULL;
}

gguf_str gguf_array_str(const gguf_kv *kv, uint64_t i) {
  gguf_str s = {(const char *)kv->items[i] + 8, le(kv->items[i], 8)};
  return s;
}
