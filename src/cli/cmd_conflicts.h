/*
 * cmd_conflicts.h - `defter conflicts` and `defter resolve` (team sync, issue 11).
 */
#ifndef DEFTER_CMD_CONFLICTS_H
#define DEFTER_CMD_CONFLICTS_H

#include "cli/cli.h"

int dft_cmd_conflicts(struct dft_cli *cli);
int dft_cmd_resolve(struct dft_cli *cli);

#endif
