// SPDX-License-Identifier: GPL-2.0-or-later
// The inline benchmark's baseline: the least a userspace NFQUEUE consumer can do. One libmnl socket
// bound to one queue, recvmmsg batches, and one coalesced batch verdict (ACCEPT up to the highest id)
// per batch. No decoding, no decisions. Stops on SIGINT/SIGTERM and prints the packets it saw and the
// batches (receives that brought packets) they came in.
// WAIT_US, when given, pauses that long after a batch that did not fill, when it held more than one
// packet or the loop waited less than WAIT_US for it, as `sipwarden run` does by default
// (daemon.batch_wait_us): the same loop, compared like with like.
//
// Usage: accept-all QUEUE [BATCH [WAIT_US]]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "batch-receive.h"

enum { COPY_RANGE = 65535, MESSAGE_SIZE = COPY_RANGE + 1024, MAX_BATCH = 1024 };

/// Monotonic time in microseconds.
static double microseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s QUEUE [BATCH]\n", argv[0]);
        return 2;
    }
    uint16_t queue = (uint16_t)atoi(argv[1]);
    unsigned batch = argc > 2 ? (unsigned)atoi(argv[2]) : 64;
    if (batch < 1 || batch > MAX_BATCH) batch = 64;
    unsigned wait = argc > 3 ? (unsigned)atoi(argv[3]) : 0;
    stop_on_signals();

    struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
    if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) fail("netlink socket");
    int on = 1;
    mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &on, sizeof on);
    int fd = mnl_socket_get_fd(nl);
    int size = 16 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    struct timeval timeout = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    char config[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = nfq_nlmsg_put(config, NFQNL_MSG_CONFIG, queue);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, COPY_RANGE);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, 4096);
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) fail("bind queue");

    uint8_t *buffers = malloc((size_t)MESSAGE_SIZE * batch);
    struct mmsghdr messages[MAX_BATCH];
    struct iovec vectors[MAX_BATCH];
    char verdict[MNL_SOCKET_BUFFER_SIZE];
    unsigned long long packets = 0, batches = 0;
    double ready = 0; // when the loop last went back to receive, after a batch and its pause (µs)
    while (!stopping) {
        point_at_buffers(messages, vectors, buffers, batch, MESSAGE_SIZE);
        int count = recvmmsg(fd, messages, batch, MSG_WAITFORONE, NULL);
        if (count < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            fail("recvmmsg");
        }
        double received = microseconds();
        uint32_t last = 0;
        int seen = 0;
        for (int i = 0; i < count; i++) {
            const struct nlmsghdr *message = vectors[i].iov_base;
            if (!mnl_nlmsg_ok(message, (int)messages[i].msg_len)) continue;
            if ((message->nlmsg_type & 0xff) != NFQNL_MSG_PACKET) continue;
            struct nlattr *attributes[NFQA_MAX + 1] = {0};
            if (nfq_nlmsg_parse(message, attributes) < 0 || attributes[NFQA_PACKET_HDR] == NULL) continue;
            const struct nfqnl_msg_packet_hdr *header = mnl_attr_get_payload(attributes[NFQA_PACKET_HDR]);
            uint32_t id = ntohl(header->packet_id);
            if (id > last) last = id;
            seen++;
        }
        if (seen == 0) {
            ready = received;
            continue;
        }
        packets += (unsigned long long)seen;
        batches++;
        nlh = nfq_nlmsg_put(verdict, NFQNL_MSG_VERDICT_BATCH, queue);
        nfq_nlmsg_verdict_put(nlh, (int)last, NF_ACCEPT);
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) fail("verdict");
        if (wait > 0 && (unsigned)count < batch && (count > 1 || received - ready < wait)) {
            usleep(wait);
            ready = microseconds();
        } else {
            ready = received;
        }
    }
    printf("%llu %llu\n", packets, batches);
    mnl_socket_close(nl);
    return 0;
}
