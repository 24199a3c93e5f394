// SPDX-License-Identifier: GPL-2.0-or-later
// posix_spawn's file action that closes every descriptor from a number up (glibc 2.34 and later):
// <spawn.h> declares it only under _GNU_SOURCE, which Swift's Glibc module is not built with.
#ifndef CSPAWN_H
#define CSPAWN_H

#include <spawn.h>

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `from` up before
/// it runs, whichever the parent's threads have open at that moment. 0, or an error number.
int cspawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
