/*
 * cmd_coercion.h - `defter panic`, `defter duress`, `defter recovery` (issue 14).
 */
#ifndef DEFTER_CLI_CMD_COERCION_H
#define DEFTER_CLI_CMD_COERCION_H

#include "cli/cli.h"

int dft_cmd_panic(struct dft_cli *cli);
int dft_cmd_duress(struct dft_cli *cli);
int dft_cmd_recovery(struct dft_cli *cli);

#endif
