/*
 * cmd_witness.h - the witness commands of cmd_witness.c, called from cmd_tlog.c's dispatch:
 * `witness init|trust|serve|forks|logs|network-entry`, `witness add VKEY URL`,
 * `witness policy --file F|--print`, `checkpoint --cosign` and `prove ID --format tlog-proof`.
 */
#ifndef DEFTER_CLI_CMD_WITNESS_H
#define DEFTER_CLI_CMD_WITNESS_H

#include "cli/cli.h"

/* 1 when cmd_witness.c handles this `witness` invocation (exit status in *status). */
int dft_cmd_witness_more(struct dft_cli *cli, int *status);
/* `checkpoint --cosign`: ask the witnesses for cosignatures and keep them (quorum or exit 1). */
int dft_cmd_checkpoint_cosign(struct dft_cli *cli);
/* `prove ID --format tlog-proof`: c2sp.org/tlog-proof@v1 on stdout. */
int dft_cmd_prove_tlog_proof(struct dft_cli *cli, const char *id);

#endif
