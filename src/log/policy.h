/*
 * policy.h - C2SP tlog-policy files (c2sp.org/tlog-policy): the logs, the witnesses (with the
 * URLs to ask) and the quorum rule, as nested groups of "k of n". Internal to libdefter; used by
 * `defter witness policy --file|--print` and `checkpoint --cosign`.
 *
 * The parser is strict: names are defined before use, once; members appear once per group;
 * 1 <= k <= n; exactly one quorum line; vkeys of the right type (0x01 logs, 0x04 witnesses)
 * and no duplicate public key. It never reads past len and caps every list.
 */
#ifndef DEFTER_LOG_POLICY_H
#define DEFTER_LOG_POLICY_H

#include "defter/core.h"
#include "log/tlog.h"

#define POLICY_BYTES_MAX   (64u * 1024u)
#define POLICY_LOGS_MAX    8
#define POLICY_WITNESS_MAX DFT_WITNESS_MAX
#define POLICY_GROUPS_MAX  32
#define POLICY_MEMBERS_MAX 32
#define POLICY_NAME_MAX    128
#define POLICY_URL_MAX     512
#define POLICY_NONE        (-1000) /* quorum none */

struct policy_log {
    struct dft_note_verifier key;
    char url[POLICY_URL_MAX];
};

struct policy_witness {
    char name[POLICY_NAME_MAX];
    struct dft_note_verifier key;
    char url[POLICY_URL_MAX];
};

/* A member reference: >= 0 a witness index, < 0 the group -(ref + 1). */
struct policy_group {
    char name[POLICY_NAME_MAX];
    unsigned k, n;
    int members[POLICY_MEMBERS_MAX];
};

struct policy {
    struct policy_log logs[POLICY_LOGS_MAX];
    size_t nlogs;
    struct policy_witness witnesses[POLICY_WITNESS_MAX];
    size_t nwitnesses;
    struct policy_group groups[POLICY_GROUPS_MAX];
    size_t ngroups;
    int quorum; /* member reference, or POLICY_NONE */
};

/* Parse a policy file. DFT_ERR_INPUT names the line and the problem; nothing else fails. */
enum dft_err policy_parse(struct policy *p, const char *text, size_t len,
                          struct dft_error *err) DFT_MUST_CHECK;

/* 1 when the witnesses marked in cosigned[0..nwitnesses) satisfy the quorum. */
int policy_met(const struct policy *p, const int *cosigned);

/* The fewest cosignatures that can satisfy the quorum (0 for quorum none). */
unsigned policy_min_cosignatures(const struct policy *p);

/* Append the policy in the file format (canonical: one space, in definition order). */
enum dft_err policy_format(const struct policy *p, struct dft_buf *out,
                           struct dft_error *err) DFT_MUST_CHECK;

#endif
