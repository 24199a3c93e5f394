// SPDX-License-Identifier: GPL-2.0-or-later
// The inline benchmark's SIP server stand-in: a UDP socket bound to ADDR:5060 that reads and discards
// what the consumer accepted, in recvmmsg batches. Without it, every accepted packet would reach a
// closed port, and the kernel would answer each with an ICMP port unreachable (not rate-limited on
// loopback) inside the consumer's verdict call: a third of the consumer's CPU spent on work no real
// server host does. Stops on SIGINT/SIGTERM and prints the datagrams it read.
//
// Usage: udp-sink ADDR
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "batch-receive.h"

enum { BATCH = 64, DATAGRAM_SIZE = 2048 };

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s ADDR\n", argv[0]);
        return 2;
    }
    stop_on_signals();

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) fail("socket");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(5060)};
    if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) fail("address");
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("bind");
    int size = 16 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    struct timeval timeout = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    static uint8_t buffers[BATCH][DATAGRAM_SIZE];
    struct mmsghdr messages[BATCH];
    struct iovec vectors[BATCH];
    unsigned long long datagrams = 0;
    while (!stopping) {
        point_at_buffers(messages, vectors, &buffers[0][0], BATCH, DATAGRAM_SIZE);
        int count = recvmmsg(fd, messages, BATCH, MSG_WAITFORONE, NULL);
        if (count < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            fail("recvmmsg");
        }
        datagrams += (unsigned long long)count;
    }
    printf("%llu\n", datagrams);
    return 0;
}
