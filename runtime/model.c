/* tandem_model: a compiled model's descriptor, its weights, and its output buffers.
 *
 * Everything that can fail is done at open (checking the descriptor, mapping the
 * weights, allocating the outputs), so that run only checks its arguments and calls
 * the compiled entry: no allocation, no system call. A model runs one call at a time;
 * its own output buffers are overwritten by each run. */
#include <inttypes.h>
#include <string.h>

#include "rt_alloc.h"
#include "rt_dtype.h"
#include "rt_status.h"
#include "rt_weights.h"

/* A compiled model's kernels reach the thread pool (pool.c) through a weak reference,
 * which does not pull pool.o out of libtandem_runtime.a; this one does, for every
 * program that opens a model, so that statically linked programs get the threads too. */
__attribute__((used)) static void (*const rt_model_pool)(int64_t, tandem_task_fn, void *) = tandem_parallel_for;

struct tandem_model {
  const tandem_model_desc *desc; /* borrowed */
  tandem_allocator allocator;
  rt_weights weights;
  void **owned_outputs; /* [output_count] buffers of outputs[i].byte_size, 64-aligned */
  void **run_outputs;   /* [output_count] scratch: the buffers one run writes into */
};

static const char *rt_desc_name(const tandem_model_desc *desc) {
  return desc->name ? desc->name : "?";
}

static const char *rt_tensor_name(const tandem_tensor_desc *t) {
  return t->name ? t->name : "?";
}

static tandem_status rt_tensor_check(const tandem_model_desc *desc, const char *role,
                                     uint32_t index, const tandem_tensor_desc *t) {
  const char *name = rt_tensor_name(t);
  uint64_t bytes;
  if (t->rank < 0 || (t->rank > 0 && !t->shape) ||
      !rt_shape_bytes(t->dtype, t->rank, t->shape, &bytes))
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "model '%s': %s %" PRIu32 " ('%s'): bad dtype %" PRId32
                          " or shape", rt_desc_name(desc), role, index, name, t->dtype);
  if (bytes != t->byte_size) {
    char text[RT_SHAPE_TEXT_MAX];
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "model '%s': %s %" PRIu32 " ('%s'): byte_size %" PRIu64
                          " does not match %s (%" PRIu64 " bytes)",
                          rt_desc_name(desc), role, index, name, t->byte_size,
                          rt_shape_format(text, sizeof text, t->dtype, t->rank, t->shape),
                          bytes);
  }
  return NULL;
}

/* The descriptor comes from tandemc; a bad one is a compiler bug or a model built for
 * another runtime, and should fail at open rather than inside the entry. */
static tandem_status rt_desc_check(const tandem_model_desc *desc) {
  if (desc->abi_version != TANDEM_ABI_VERSION)
    return rt_status_make(TANDEM_FAILED_PRECONDITION,
                          "model '%s' was compiled for runtime ABI %" PRIu32
                          ", this runtime is ABI %u",
                          rt_desc_name(desc), desc->abi_version, TANDEM_ABI_VERSION);
  if (!desc->entry || (desc->input_count && !desc->inputs) ||
      (desc->output_count && !desc->outputs))
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "model '%s': descriptor lacks its entry or tensor tables",
                          rt_desc_name(desc));
  for (uint32_t i = 0; i < desc->input_count; i++)
    RT_TRY(rt_tensor_check(desc, "input", i, &desc->inputs[i]));
  for (uint32_t i = 0; i < desc->output_count; i++)
    RT_TRY(rt_tensor_check(desc, "output", i, &desc->outputs[i]));
  return NULL;
}

static tandem_status rt_model_alloc_outputs(tandem_model *model) {
  const tandem_model_desc *desc = model->desc;
  size_t count = desc->output_count;
  model->owned_outputs = rt_alloc(&model->allocator, 2 * count * sizeof(void *));
  if (!model->owned_outputs)
    return rt_status_make(TANDEM_OUT_OF_MEMORY, "model '%s': cannot allocate output table",
                          rt_desc_name(desc));
  memset(model->owned_outputs, 0, 2 * count * sizeof(void *));
  model->run_outputs = model->owned_outputs + count;
  for (size_t i = 0; i < count; i++) {
    uint64_t size = desc->outputs[i].byte_size;
    if (size <= SIZE_MAX) model->owned_outputs[i] = rt_alloc(&model->allocator, (size_t)size);
    if (!model->owned_outputs[i])
      return rt_status_make(TANDEM_OUT_OF_MEMORY,
                            "model '%s': cannot allocate %" PRIu64 " bytes for output '%s'",
                            rt_desc_name(desc), size, rt_tensor_name(&desc->outputs[i]));
  }
  return NULL;
}

static tandem_status rt_model_init(tandem_model *model, const tandem_open_options *options) {
  RT_TRY(rt_weights_open(model->desc, options ? options->weights_path : NULL,
                         options ? options->flags : 0, &model->weights));
  return rt_model_alloc_outputs(model);
}

tandem_status tandem_model_open(const tandem_model_desc *desc,
                                const tandem_open_options *options,
                                const tandem_allocator *allocator,
                                tandem_model **out_model) {
  if (!out_model)
    return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_model_open: out_model is NULL");
  *out_model = NULL;
  if (!desc) return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_model_open: desc is NULL");
  RT_TRY(rt_desc_check(desc));
  tandem_allocator chosen = rt_allocator_or_default(allocator);
  tandem_model *model = rt_alloc(&chosen, sizeof *model);
  if (!model)
    return rt_status_make(TANDEM_OUT_OF_MEMORY, "model '%s': cannot allocate the model",
                          rt_desc_name(desc));
  memset(model, 0, sizeof *model);
  model->desc = desc;
  model->allocator = chosen;
  tandem_status status = rt_model_init(model, options);
  if (status) {
    tandem_model_close(model);
    return status;
  }
  *out_model = model;
  return NULL;
}

static tandem_status rt_model_check_inputs(const tandem_model *model,
                                           const void *const *inputs) {
  const tandem_model_desc *desc = model->desc;
  if (desc->input_count && !inputs)
    return rt_status_make(TANDEM_INVALID_ARGUMENT,
                          "model '%s': inputs is NULL, expected %" PRIu32 " buffers",
                          rt_desc_name(desc), desc->input_count);
  for (uint32_t i = 0; i < desc->input_count; i++)
    if (!inputs[i])
      return rt_status_make(TANDEM_INVALID_ARGUMENT, "model '%s': input %" PRIu32 " ('%s') is NULL",
                            rt_desc_name(desc), i, rt_tensor_name(&desc->inputs[i]));
  return NULL;
}

tandem_status tandem_model_run(tandem_model *model, const void *const *inputs,
                               void *const *outputs) {
  if (!model) return rt_status_make(TANDEM_INVALID_ARGUMENT, "tandem_model_run: model is NULL");
  RT_TRY(rt_model_check_inputs(model, inputs));
  for (uint32_t i = 0; i < model->desc->output_count; i++)
    model->run_outputs[i] = outputs && outputs[i] ? outputs[i] : model->owned_outputs[i];
  model->desc->entry(model->weights.data, inputs, model->run_outputs);
  return NULL;
}

void *tandem_model_output(tandem_model *model, uint32_t index) {
  if (!model || index >= model->desc->output_count) return NULL;
  return model->owned_outputs[index];
}

const tandem_model_desc *tandem_model_describe(const tandem_model *model) {
  return model ? model->desc : NULL;
}

void tandem_model_close(tandem_model *model) {
  if (!model) return;
  if (model->owned_outputs)
    for (uint32_t i = 0; i < model->desc->output_count; i++)
      rt_free(&model->allocator, model->owned_outputs[i]);
  rt_free(&model->allocator, model->owned_outputs);
  rt_weights_close(&model->weights);
  tandem_allocator allocator = model->allocator;
  rt_free(&allocator, model);
}
