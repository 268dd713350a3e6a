/* json_file.c - writes a JSON summary to its file (json_file.h). */
#include "json_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int json_file_write(const char *path, cJSON *root) {
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text)
    return -ENOMEM;
  FILE *f = fopen(path, "we");
  int rc = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF ? 0 : -EIO;
  if (f && fclose(f) != 0)
    rc = -EIO;
  free(text);
  return rc;
}
