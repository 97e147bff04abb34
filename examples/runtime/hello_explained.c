/* hello_explained: hello_terse.c again, with every step explained.
 *
 *   hello_explained MODEL.weights INPUT.npy OUTPUT.npy
 *
 * What tandemc built (`tandemc model.xml -o libmlp.a`, here through tandem_add_model in
 * examples/CMakeLists.txt):
 *   libmlp.a     the compiled model: mlp_run, which computes it, and mlp_desc, the
 *                descriptor the runtime library opens;
 *   mlp.h        declares both, and states the model's interface: each input's and
 *                output's name, dtype, shape and byte size (comments and #defines);
 *   mlp.weights  the weights, a file of their own (unless --embed-weights): a 4096-byte
 *                header, then the data that tandem_model_open maps read-only.
 * The program links libmlp.a and libtandem_runtime.a (or -ltandem_runtime), and -lm.
 *
 * The runtime's conventions (include/tandem/runtime.h): errors are values, ownership is
 * in the names, and memory comes from an allocator the caller may pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

/* ---- An allocator --------------------------------------------------------------
 * Everything the runtime allocates (the model, its own output buffers, the arrays
 * tandem_npy_read fills) comes from the allocator given to the call that allocates;
 * NULL means malloc/free. This one counts its live blocks, to show at the end that
 * everything was given back. (The compiled code's own temporaries, inside mlp_run,
 * come from malloc: see mlp.h.) */
typedef struct counting_allocator {
  size_t live_blocks;
  size_t blocks_total, bytes_total;
} counting_allocator;

static void *counting_alloc(void *self, size_t size, size_t alignment) {
  counting_allocator *counter = self;
  if (alignment < sizeof(void *)) alignment = sizeof(void *);
  size_t rounded = (size + alignment - 1) / alignment * alignment; /* aligned_alloc's rule */
  void *ptr = aligned_alloc(alignment, rounded ? rounded : alignment);
  if (ptr) {
    counter->live_blocks++;
    counter->blocks_total++;
    counter->bytes_total += size;
  }
  return ptr;
}

static void counting_free(void *self, void *ptr) {
  counting_allocator *counter = self;
  if (!ptr) return;
  counter->live_blocks--;
  free(ptr);
}

/* ---- Statuses ------------------------------------------------------------------
 * A tandem_status is NULL on success. Anything else is an error the caller now owns:
 * read its code (for decisions) and its message (for people), then free it once. */
static void report(tandem_status status) {
  tandem_status_code code = tandem_status_code_of(status);
  fprintf(stderr, "hello_explained: %s: %s\n", tandem_status_code_name(code),
          tandem_status_message(status));
  if (code == TANDEM_NOT_FOUND) fprintf(stderr, "  (is MODEL.weights the right path?)\n");
  tandem_status_free(status);
}

/* ---- The descriptor --------------------------------------------------------------
 * mlp_desc is a constant in libmlp.a: the model's name, its inputs and outputs, the
 * size and hash of the weights it was compiled with, and its entry point. Programs can
 * read it to stay generic; tandem_model_open borrows it (it must outlive the model,
 * which a global does). */
static void print_tensor(const char *role, uint32_t index, const tandem_tensor_desc *t) {
  printf("  %s %u: %-8s %s[", role, (unsigned)index, t->name, tandem_dtype_name(t->dtype));
  for (int32_t d = 0; d < t->rank; d++) printf("%s%lld", d ? "," : "", (long long)t->shape[d]);
  printf("]  %llu bytes\n", (unsigned long long)t->byte_size);
}

static void describe(const tandem_model_desc *desc) {
  printf("model %s: %llu bytes of weights%s\n", desc->name,
         (unsigned long long)desc->weights_size,
         desc->embedded_weights ? ", embedded" : " in a .weights file");
  for (uint32_t i = 0; i < desc->input_count; i++) print_tensor("input ", i, &desc->inputs[i]);
  for (uint32_t i = 0; i < desc->output_count; i++) print_tensor("output", i, &desc->outputs[i]);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL.weights INPUT.npy OUTPUT.npy\n", argv[0]);
    return 2;
  }
  const char *weights_path = argv[1], *input_path = argv[2], *output_path = argv[3];
  describe(&mlp_desc);

  /* The allocator struct is copied by each call; `self` (our counter) must outlive
   * every object allocated through it. */
  counting_allocator counter = {0};
  const tandem_allocator allocator = {&counter, counting_alloc, counting_free};

  /* Everything this function may have to release, so that one exit path frees it all,
   * whichever step failed. Out-parameters are set to NULL (zeroed) by the runtime
   * before anything can fail, and the release calls accept NULL: no step needs to know
   * which earlier ones succeeded. */
  tandem_model *model = NULL;
  tandem_array input = {0};
  float *caller_output = NULL;
  tandem_status status = NULL;
  int rc = 1; /* 0 once every step succeeded */

  /* 1. Open: check the descriptor against this runtime's ABI, map the weights file
   *    read-only and check its header's size and hash against mlp_desc's (a .weights
   *    file from another model or compile fails here, FAILED_PRECONDITION), and
   *    allocate the model's own output buffers. TANDEM_OPEN_VERIFY_WEIGHTS also hashes
   *    the whole data section (one pass over the weights: worth it for files that may
   *    be corrupt). With --embed-weights, weights_path is ignored and may be NULL. */
  tandem_open_options options = {
      .weights_path = weights_path,
      .flags = TANDEM_OPEN_VERIFY_WEIGHTS,
  };
  status = tandem_model_open(&mlp_desc, &options, &allocator, &model);
  if (status) goto done;

  /* 2. Read the input: a NumPy .npy file (v1-v3, little-endian, C order).
   *    tandem_npy_read_expect also checks that its dtype and shape are exactly the
   *    model's input 0 (INVALID_ARGUMENT otherwise), so a wrong file fails here, not
   *    inside the model. input.data is 64-byte aligned and ours: tandem_array_free,
   *    with the same allocator. Inputs are borrowed by each run. */
  status = tandem_npy_read_expect(input_path, &mlp_desc.inputs[0], &allocator, &input);
  if (status) goto done;
  const void *inputs[MLP_INPUT_COUNT] = {input.data};

  /* 3. Run into the model's own buffers: outputs == NULL (or a NULL entry). The result
   *    stays in a buffer the model owns, read with tandem_model_output(); it is valid
   *    until tandem_model_close and overwritten by the next run. A run allocates
   *    nothing in the runtime and makes no system call: open did all of that. */
  status = tandem_model_run(model, inputs, NULL);
  if (status) goto done;
  const float *model_output = tandem_model_output(model, 0);

  /* 4. Run into a buffer of ours: the output lands where we say (say, inside a larger
   *    array) with no copy. The caller owns it; any alignment works, 64 bytes is best.
   *    Its size is the descriptor's byte_size (also MLP_OUTPUT_0_SIZE in mlp.h). */
  caller_output = allocator.alloc(allocator.self, mlp_desc.outputs[0].byte_size, 64);
  if (!caller_output) {
    fprintf(stderr, "hello_explained: out of memory\n");
    goto done;
  }
  void *outputs[MLP_OUTPUT_COUNT] = {caller_output};
  status = tandem_model_run(model, inputs, outputs);
  if (status) goto done;
  /* Same model, same input: the same bits, wherever they were written. */
  if (memcmp(caller_output, model_output, mlp_desc.outputs[0].byte_size) != 0) {
    fprintf(stderr, "hello_explained: the two runs differ\n");
    goto done;
  }
  printf("%s: %g %g %g ...\n", mlp_desc.outputs[0].name, caller_output[0],
         caller_output[1], caller_output[2]);

  /* 5. Write the output as .npy. The file is written under a temporary name and
   *    renamed once complete, so a reader never sees half of it. */
  status = tandem_npy_write(output_path, &mlp_desc.outputs[0], caller_output);
  if (!status) rc = 0;

done:
  /* 6. Release everything, whatever state a failure left: each call accepts NULL. */
  if (caller_output) allocator.free(allocator.self, caller_output);
  tandem_array_free(&input, &allocator);
  tandem_model_close(model); /* unmaps the weights and frees its buffers (model_output) */
  if (status) report(status);
  if (counter.live_blocks) {
    fprintf(stderr, "hello_explained: %zu blocks not freed\n", counter.live_blocks);
    rc = 1;
  } else if (!rc) {
    printf("allocator: %zu blocks, %zu bytes, all freed\n", counter.blocks_total,
           counter.bytes_total);
  }
  return rc;
}
