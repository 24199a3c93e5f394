// SPDX-License-Identifier: GPL-2.0-or-later
// What the inline benchmark's two receivers (accept-all.c, udp-sink.c) share: stopping on SIGINT or
// SIGTERM, failing with the reason, and pointing a recvmmsg vector at one buffer per message.
#ifndef BATCH_RECEIVE_H
#define BATCH_RECEIVE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

static volatile sig_atomic_t stopping;
static void stop(int signal) { (void)signal; stopping = 1; }

static void stop_on_signals(void) {
    struct sigaction action = {.sa_handler = stop};
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
}

static void fail(const char *what) {
    perror(what);
    exit(1);
}

// Points messages[i] at buffers + i * size, for `count` messages (recvmmsg overwrites the lengths).
static void point_at_buffers(struct mmsghdr *messages, struct iovec *vectors, uint8_t *buffers, unsigned count,
                             size_t size) {
    memset(messages, 0, sizeof(messages[0]) * count);
    for (unsigned i = 0; i < count; i++) {
        vectors[i] = (struct iovec){.iov_base = buffers + (size_t)i * size, .iov_len = size};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
}

#endif
