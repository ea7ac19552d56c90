/*
 * cmd_agent.h - `defter unlock`, `lock`, `status`, and the hooks by which every other command
 * goes through the unlock agent when one holds its vault (src/cli/cmd_agent.c).
 */
#ifndef DEFTER_CLI_CMD_AGENT_H
#define DEFTER_CLI_CMD_AGENT_H

#include <stdint.h>

#include "cli/cli.h"

/* The whole command line (main.c): global options, dispatch, exit status. The agent runs it. */
int dft_cli_main(int argc, char **argv);

int dft_cmd_unlock(struct dft_cli *cli);
int dft_cmd_lock(struct dft_cli *cli);
int dft_cmd_status(struct dft_cli *cli);

/*
 * main.c, before running a command: when an agent of this user holds the vault, run the whole
 * command there (with this process's cwd, stdin, stdout and stderr) and return 1 with its exit
 * status in *status. 0: run it here as usual (no agent, a locked or foreign one, or a command
 * that never goes through the agent).
 */
int dft_cli_agent_forward(struct dft_cli *cli, int *status);

/* util.c, cli_open_vault: inside the agent, lend its open vault (1), else 0. */
int dft_cli_agent_vault(struct dft_vault **v);

/*
 * cmd_ui.c: when an agent holds the vault, serve the UI from it (CLI commands keep working) and
 * return 1 with the exit status; 0: serve it from this process as usual.
 */
int dft_cli_agent_ui(struct dft_cli *cli, uint16_t port, int *status);

#endif
