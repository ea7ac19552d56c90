/*
 * gate.c - one process-wide mutex around every use of a shared vault, and the time of its last
 * use (the agent's idle timer).
 *
 * The agent runs command requests on its main thread and the UI server's handlers on the
 * libmicrohttpd thread; both take the gate, so the vault handle is never used by two threads at
 * once. It must never be held across a wait for a client (only around work on the vault).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "agent/agent.h"

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int64_t last_use;

int64_t
agent_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

void
agent_gate_enter(void)
{
    (void)pthread_mutex_lock(&gate);
    atomic_store(&last_use, agent_now());
}

void
agent_gate_hold(void)
{
    (void)pthread_mutex_lock(&gate);
}

void
agent_gate_leave(void)
{
    (void)pthread_mutex_unlock(&gate);
}

void
agent_gate_touch(void)
{
    atomic_store(&last_use, agent_now());
}

int64_t
agent_gate_last_use(void)
{
    return atomic_load(&last_use);
}
