// SPDX-License-Identifier: GPL-2.0-or-later
#define _GNU_SOURCE
#include "CSpawn.h"

int cspawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
