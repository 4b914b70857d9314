#include "cli/commands.h"
int cmd_selfcheck(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return 1;
}
