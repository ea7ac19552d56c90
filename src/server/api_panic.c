/*
 * api_panic.c - POST /api/panic (api_panic.h): the same wipe as `defter panic`, from the page.
 * The server stops after the answer: SIGTERM to itself (the orderly stop of `defter ui` and of
 * the agent), and _exit two seconds later if open browser connections still hold it up.
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "defter/coercion.h"
#include "defter/vault.h"
#include "server/api_panic.h"

/* Give the answer time to leave, then stop the server the way Ctrl-C does. */
static void *
stop_soon(void *arg)
{
    (void)arg;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 300 * 1000 * 1000};
    (void)nanosleep(&ts, NULL);
    (void)kill(getpid(), SIGTERM);
    /* An orderly stop waits for the browser's open connections; the keys are gone already. */
    ts.tv_sec = 2;
    ts.tv_nsec = 0;
    (void)nanosleep(&ts, NULL);
    _exit(0);
}

enum MHD_Result
ui_api_panic(struct dft_ui *ui, struct MHD_Connection *c, struct ui_req *r)
{
    struct dft_panic_result res;
    struct dft_error e;
    dft_error_clear(&e);
    /* Our keys first: nothing in this process can write a header back after the wipe. */
    dft_vault_close(ui->vault);
    ui->vault = NULL;
    ui->lock_gen++;
    ui_seen_clear(ui);
    if (dft_vault_panic(ui->dir, &res, &e) != DFT_OK) {
        return ui_send_dft_error(c, r, &e);
    }
    dft_log(DFT_LOG_WARN, "ui: panic: %d header copies wiped; stopping", res.copies);
    pthread_t t;
    if (pthread_create(&t, NULL, stop_soon, NULL) == 0) {
        (void)pthread_detach(t);
    }
    return ui_send_json(c, r, 200,
                        json_pack("{s:b, s:i, s:I}", "wiped", 1, "copies", res.copies, "stopped",
                                  (json_int_t)res.stopped));
}

int
ui_cover(const struct dft_ui *ui)
{
    return ui->dir != NULL && dft_vault_camouflaged(ui->dir);
}
