/* Fuzz target: the OpenVINO IR importer (frontend/openvino.c), model.xml + model.bin.
 *
 * The input is the XML up to its first NUL byte and model.bin after it (no NUL: there
 * is no model.bin). Both are written to a scratch folder and imported as tandemc
 * imports them; a bad model must give a one-line bad-input error (fuzz_check.h). */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "frontend/frontend.h"
#include "fuzz_check.h"
#include "fuzz_session.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, 0, size);
  size_t xml_size = nul ? (size_t)(nul - data) : size;
  const char *xml = fuzz_write("model.xml", data, xml_size);
  if (nul) {
    fuzz_write("model.bin", nul + 1, size - xml_size - 1);
  } else {
    char bin[512];
    snprintf(bin, sizeof bin, "%s/model.bin", fuzz_dir());
    unlink(bin);
  }
  tdm_session *s = fuzz_session_get();
  MlirModule m;
  tdm_status st = fe_openvino_import(s, xml, NULL, &m);
  if (!st) mlirModuleDestroy(m);
  fuzz_check_status(st);
  return 0;
}
