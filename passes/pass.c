#include "passes/pass.h"

#include <stdlib.h>

typedef struct pass_state {
  const tdm_pass_def *def;
  tdm_session *session;
} pass_state;

tdm_status tdm_session_take_pass_error(tdm_session *s) {
  tdm_status st = s->pass_error;
  s->pass_error = NULL;
  return st;
}

static void construct(void *u) { (void)u; }
static void destruct(void *u) { free(u); }

static void *clone(void *u) {
  pass_state *p = malloc(sizeof *p);
  if (p) *p = *(pass_state *)u;
  return p;
}

static void run(MlirOperation op, MlirExternalPass pass, void *u) {
  pass_state *p = u;
  tdm_status st = p->def->run(op, p->session);
  if (!st) return;
  if (!p->session->pass_error) p->session->pass_error = st;
  else tdm_status_free(st);
  mlirExternalPassSignalFailure(pass);
}

MlirPass tdm_pass_create(const tdm_pass_def *def, tdm_session *s) {
  /* The pass's TypeID: any unique, 8-byte-aligned address will do. */
  MlirTypeID id = mlirTypeIDCreate(def);
  pass_state *p = malloc(sizeof *p);
  p->def = def;
  p->session = s;
  MlirExternalPassCallbacks cb = {construct, destruct, NULL, clone, run};
  return mlirCreateExternalPass(id, tdm_str(def->name), tdm_str(def->name), tdm_str(def->summary),
                                tdm_str("builtin.module"), 0, NULL, cb, p);
}
