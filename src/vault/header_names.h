/*
 * header_names.h - the internal names of header.c's functions (header_read for
 * dft_header_read...), until header.c/.h are renamed on the coercion branch the same way.
 *
 * MERGE NOTE: delete this file (and its includes) once vault/header.h declares header_read.
 */
#ifndef DEFTER_VAULT_HEADER_NAMES_H
#define DEFTER_VAULT_HEADER_NAMES_H

#include "vault/header.h"

#define header_create dft_header_create
#define header_encode dft_header_encode
#define header_parse  dft_header_parse
#define header_read   dft_header_read
#define header_unlock dft_header_unlock
#define header_wrap   dft_header_wrap
#define header_write  dft_header_write

#endif
