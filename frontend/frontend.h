/* Frontends: a model file -> a tdm graph module (the import phase).
 *
 * Each reads one format and builds tdm ops with tdm_build (ir/tdm.h), so every
 * imported op is shape-checked as it is made. Weights stay in their files: the
 * session maps them and `tdm.weight` ops point into them. */
#ifndef TANDEM_FRONTEND_FRONTEND_H
#define TANDEM_FRONTEND_FRONTEND_H

#include "ir/session.h"

/* OpenVINO IR v10/v11: model.xml (+ bin_path, by default the .xml's name with .bin). */
tdm_status fe_openvino_import(tdm_session *s, const char *xml_path, const char *bin_path,
                              MlirModule *out_module);

/* A llama-architecture GGUF (llama.cpp's format): @prefill and @decode functions
 * over a KV cache (session->llm_ctx positions, session->llm_prefill tokens). */
tdm_status fe_gguf_import(tdm_session *s, const char *path, MlirModule *out_module);

/* The tokenizer of a GGUF file (its bytes), serialized for the LLM runtime
 * (tandem_tokenizer_serialize in include/tandem/llm.h); *out is malloc'd. */
tdm_status fe_gguf_tokenizer(const char *path, const uint8_t *data, size_t size, uint8_t **out,
                             size_t *out_size);

/* A tdm module printed by tandemc (--emit=mlir or a graph-phase dump without
 * elided constants). Its weight files are listed in the tdm.weight_files attribute. */
tdm_status fe_mlir_import(tdm_session *s, const char *path, MlirModule *out_module);

/* Picks the frontend from the file's extension (.xml, .gguf, .mlir) or contents. */
tdm_status fe_import(tdm_session *s, const char *path, MlirModule *out_module);

#endif
