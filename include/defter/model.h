/*
 * model.h - the case model that checks itself, and the daily verbs built on it: the schema of
 * each record type (after the HURIDOCS Events Standard Formats where they fit), ISO 8601 dates,
 * restore of deleted records, filtered lists, history a person can read, CSV import and export.
 *
 * The schema is built in and extended per vault by signed operations (record "schema", action
 * "schema"): `defter schema add-field TYPE NAME KIND` and `add-role NAME`. Every create, update,
 * link and evidence operation goes through schema_check_ops (src/vault/schema.c) before it is
 * signed, so a typo'd field or role never reaches the log.
 *
 * Ownership as in vault.h: json_t results are new references; inputs are borrowed.
 */
#ifndef DEFTER_MODEL_H
#define DEFTER_MODEL_H

#include <jansson.h>

#include "defter/core.h"
#include "defter/vault.h"

/*
 * The schema as JSON: {"types":{TYPE:{"fields":[{"name","kind","required","values"?,
 * "custom"?}]}}, "roles":[...], "kinds":[...]}. type NULL: every type. v NULL: the built-in
 * schema only (no vault extensions). DFT_ERR_INPUT for an unknown type.
 */
DFT_EXPORT enum dft_err dft_schema_get(struct dft_vault *v, const char *type, json_t **out,
                                       struct dft_error *err) DFT_MUST_CHECK;

/*
 * Extend the vault's schema with a field of a type (kind: text, longtext, date, list, ref, flag
 * or enum:V1,V2,...) or a link role; one signed operation each. A name that exists is refused.
 */
DFT_EXPORT enum dft_err dft_schema_add_field(struct dft_vault *v, const char *type,
                                             const char *name, const char *kind,
                                             struct dft_error *err) DFT_MUST_CHECK;
DFT_EXPORT enum dft_err dft_schema_add_role(struct dft_vault *v, const char *role,
                                            struct dft_error *err) DFT_MUST_CHECK;

/*
 * An ISO 8601 calendar date, full or partial: YYYY, YYYY-MM or YYYY-MM-DD, with an optional
 * trailing "~" for approximate (ISO 8601-2 / EDTF). On success *key_out (may be NULL) receives
 * a sort key YYYYMMDD with missing parts as 00 and *approx_out (may be NULL) the flag.
 * DFT_ERR_INPUT with a hint naming field otherwise.
 */
DFT_EXPORT enum dft_err dft_date_check(const char *field, const char *s, long *key_out,
                                       int *approx_out, struct dft_error *err) DFT_MUST_CHECK;

/* Bring a deleted record back (a "restore" operation). DFT_ERR_INPUT if it is not deleted. */
DFT_EXPORT enum dft_err dft_vault_restore(struct dft_vault *v, const char *id,
                                          struct dft_error *err) DFT_MUST_CHECK;

/*
 * Records of a type (NULL: all) with filters, as dft_vault_list: query is an object with
 * optional "where" ({FIELD: VALUE}, all must match; a list field matches any element),
 * "sort" (a field name; "-" first for descending; dates sort by date), "from"/"to" (ISO dates,
 * on the record's "date" field, partial dates by their range), "deleted" (true: only deleted).
 */
DFT_EXPORT enum dft_err dft_vault_list_query(struct dft_vault *v, const char *type,
                                             const json_t *query, json_t **out,
                                             struct dft_error *err) DFT_MUST_CHECK;

/*
 * A record's history for people: [{"index","ts","author","action","changes":[{"field","old",
 * "new"}],"role"?,"other"?}] oldest first, old -> new per field.
 */
DFT_EXPORT enum dft_err dft_vault_history(struct dft_vault *v, const char *id, json_t **out,
                                          struct dft_error *err) DFT_MUST_CHECK;

/*
 * CSV: parse text (RFC 4180, through libcsv) into records of type, columns named by the
 * header row, renamed by map ({COLUMN: FIELD}); every row is checked against the schema and
 * the whole file goes in one envelope, or nothing does (errors name the row and column).
 * dry_run checks only (then v may be NULL: the built-in schema). *ids_out (may be NULL)
 * receives the new ids (dry run: one null per record).
 */
DFT_EXPORT enum dft_err dft_csv_import(struct dft_vault *v, const char *text, size_t len,
                                       const char *type, const json_t *map, int dry_run,
                                       json_t **ids_out, struct dft_error *err) DFT_MUST_CHECK;

/* Rows of the CSV text as a JSON array of objects keyed by the header row (no vault). */
DFT_EXPORT enum dft_err dft_csv_parse(const char *text, size_t len, json_t **rows_out,
                                      struct dft_error *err) DFT_MUST_CHECK;

/*
 * Records (a list as dft_vault_list_query returns) as CSV: id, type, title, then every field
 * that occurs, in schema order; lists joined with "; ". Appended to out.
 */
DFT_EXPORT enum dft_err dft_csv_export(const json_t *records, struct dft_buf *out,
                                       struct dft_error *err) DFT_MUST_CHECK;

#endif
