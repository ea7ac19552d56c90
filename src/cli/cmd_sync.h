/*
 * cmd_sync.h - the team-sync commands: serve (cmd_serve.c); share, member, sync and
 * init --join (cmd_sync.c). conflicts and resolve are cmd_conflicts.c.
 */
#ifndef DEFTER_CLI_CMD_SYNC_H
#define DEFTER_CLI_CMD_SYNC_H

#include "cli/cli.h"

int cmd_serve(struct dft_cli *cli);
int cmd_share(struct dft_cli *cli);
int cmd_member(struct dft_cli *cli);
int cmd_sync(struct dft_cli *cli);
/* init --join INVITE: called by cmd_init when it sees --join (cmd_vault.c). */
int cmd_init_join(struct dft_cli *cli);

#endif
