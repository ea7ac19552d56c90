/* main.c - the defter command line (placeholder until the vault lands). */
#include <stdio.h>

#include "defter/core.h"

int
main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "defter: not yet\n");
    return 2;
}
