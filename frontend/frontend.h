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

/* A tdm module printed by tandemc (--emit=mlir or a graph-phase dump without
 * elided constants). Its weight files are listed in the tdm.weight_files attribute. */
tdm_status fe_mlir_import(tdm_session *s, const char *path, MlirModule *out_module);

/* Picks the frontend from the file's extension (.xml, .mlir) or contents. */
tdm_status fe_import(tdm_session *s, const char *path, MlirModule *out_module);

#endif
