// SPDX-License-Identifier: GPL-2.0-or-later
// The only file that includes the kernel's netfilter headers: see include/CNetfilterQueue.h.
#define _GNU_SOURCE
#include "CNetfilterQueue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

_Static_assert(CNFQ_DROP == NF_DROP, "NF_DROP");
_Static_assert(CNFQ_ACCEPT == NF_ACCEPT, "NF_ACCEPT");
_Static_assert(CNFQ_REPEAT == NF_REPEAT, "NF_REPEAT");
_Static_assert(CNFQ_HOOK_LOCAL_IN == NF_INET_LOCAL_IN, "NF_INET_LOCAL_IN");
_Static_assert(CNFQ_HOOK_LOCAL_OUT == NF_INET_LOCAL_OUT, "NF_INET_LOCAL_OUT");
_Static_assert(CNFQ_HOOK_POST_ROUTING == NF_INET_POST_ROUTING, "NF_INET_POST_ROUTING");

/// Room for one verdict message: nlmsghdr, nfgenmsg, NFQA_VERDICT_HDR and NFQA_MARK, aligned.
enum { VERDICT_MESSAGE_SPACE = 64 };

struct cnfq_queue {
    struct mnl_socket *socket;
    cnfq_config config;
    /// Per received message: its buffer (config.copy_range plus netlink overhead).
    size_t message_size;
    uint8_t *receive_buffers;
    struct mmsghdr *messages;
    struct iovec *vectors;
    /// Verdict messages, laid end to end for one send.
    uint8_t *verdicts;
    size_t verdicts_capacity;
    size_t verdicts_used;
};

cnfq_queue *cnfq_open(const cnfq_config *config) {
    cnfq_queue *queue = calloc(1, sizeof *queue);
    if (queue == NULL) return NULL;
    queue->config = *config;
    if (queue->config.batch == 0) queue->config.batch = 1;
    // Headers before the payload: nlmsghdr, nfgenmsg and the packet attributes (well under 512 bytes).
    // Rounded up to a cache line, so that every message (and its netlink headers) starts aligned.
    queue->message_size = ((size_t)config->copy_range + 1024 + 63) & ~(size_t)63;
    queue->receive_buffers = malloc(queue->message_size * queue->config.batch);
    queue->messages = calloc(queue->config.batch, sizeof *queue->messages);
    queue->vectors = calloc(queue->config.batch, sizeof *queue->vectors);
    // Every packet of a batch may need its own verdict, plus one batch verdict.
    queue->verdicts_capacity = (size_t)(queue->config.batch + 2) * VERDICT_MESSAGE_SPACE;
    queue->verdicts = malloc(queue->verdicts_capacity);
    if (!queue->receive_buffers || !queue->messages || !queue->vectors || !queue->verdicts) goto fail;
    for (unsigned i = 0; i < queue->config.batch; i++) {
        queue->vectors[i].iov_base = queue->receive_buffers + i * queue->message_size;
        queue->vectors[i].iov_len = queue->message_size;
        queue->messages[i].msg_hdr.msg_iov = &queue->vectors[i];
        queue->messages[i].msg_hdr.msg_iovlen = 1;
    }

    // Close-on-exec: the ipset and nft processes started for an unban must not inherit the queue socket
    // (a leftover copy would keep the queue bound, with nobody reading, after the daemon died).
    queue->socket = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (queue->socket == NULL) goto fail;
    if (mnl_socket_bind(queue->socket, 0, MNL_SOCKET_AUTOPID) < 0) goto fail;
    int on = 1;
    // A full receive buffer must not turn into ENOBUFS errors: the queue's own limits apply instead.
    if (mnl_socket_setsockopt(queue->socket, NETLINK_NO_ENOBUFS, &on, sizeof on) < 0) goto fail;
    int fd = mnl_socket_get_fd(queue->socket);
    int size = config->receive_buffer;
    if (size > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) goto fail;
    struct timeval timeout = {
        .tv_sec = config->receive_timeout_ms / 1000, .tv_usec = (config->receive_timeout_ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0) goto fail;
    return queue;

fail:;
    int saved = errno;
    cnfq_close(queue);
    errno = saved;
    return NULL;
}

void cnfq_close(cnfq_queue *queue) {
    if (queue == NULL) return;
    if (queue->socket != NULL) mnl_socket_close(queue->socket);
    free(queue->receive_buffers);
    free(queue->messages);
    free(queue->vectors);
    free(queue->verdicts);
    free(queue);
}

int cnfq_fd(const cnfq_queue *queue) { return mnl_socket_get_fd(queue->socket); }

/// The attribute's payload as a 32-bit big-endian number, or `otherwise` when it is too short for one.
static uint32_t attribute_u32(const struct nlattr *attribute, uint32_t otherwise) {
    if (attribute->nla_len < NLA_HDRLEN + sizeof(uint32_t)) return otherwise;
    uint32_t value;
    memcpy(&value, (const uint8_t *)attribute + NLA_HDRLEN, sizeof value);
    return ntohl(value);
}

int cnfq_parse_packet(const void *bytes, size_t length, cnfq_packet *packet) {
    const struct nlmsghdr *message = bytes;
    // Checked here rather than by mnl_nlmsg_ok, which (before libmnl 1.0.5) takes an nlmsg_len of 2^31
    // or more for a negative one and lets it pass.
    if (length < sizeof *message || message->nlmsg_len < sizeof *message || message->nlmsg_len > length) return -1;
    if (message->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) return 0;
    // The attributes are walked here rather than by nfq_nlmsg_parse, whose validating callback per
    // attribute cost some 650 instructions a packet; each attribute that is read is checked for its
    // length instead.
    const uint8_t *end = (const uint8_t *)message + message->nlmsg_len;
    const uint8_t *cursor = (const uint8_t *)mnl_nlmsg_get_payload(message) + NLMSG_ALIGN(sizeof(struct nfgenmsg));
    const struct nfqnl_msg_packet_hdr *header = NULL;
    packet->mark = 0;
    packet->payload = NULL;
    packet->payload_length = 0;
    uint32_t captured = UINT32_MAX;
    while (end - cursor >= (ptrdiff_t)NLA_HDRLEN) {
        const struct nlattr *attribute = (const struct nlattr *)cursor;
        if (attribute->nla_len < NLA_HDRLEN || attribute->nla_len > end - cursor) return -1;
        const uint8_t *payload = cursor + NLA_HDRLEN;
        uint32_t payload_length = attribute->nla_len - NLA_HDRLEN;
        switch (attribute->nla_type & NLA_TYPE_MASK) {
        case NFQA_PACKET_HDR:
            if (payload_length >= sizeof *header) header = (const struct nfqnl_msg_packet_hdr *)payload;
            break;
        case NFQA_MARK: packet->mark = attribute_u32(attribute, 0); break;
        case NFQA_PAYLOAD:
            packet->payload = payload;
            packet->payload_length = payload_length;
            break;
        case NFQA_CAP_LEN: captured = attribute_u32(attribute, UINT32_MAX); break;
        default: break;
        }
        cursor += NLA_ALIGN(attribute->nla_len);
    }
    if (header == NULL) return -1;
    packet->id = ntohl(header->packet_id);
    packet->hook = header->hook;
    packet->hw_protocol = ntohs(header->hw_protocol);
    packet->original_length = captured == UINT32_MAX ? packet->payload_length : captured;
    return 1;
}

static double monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/// Sends one configuration message with NLM_F_ACK and waits (at most 2 s) for the kernel's answer to
/// it. A packet queued meanwhile gets ACCEPT at once, so none is left without a verdict; under load
/// many arrive before the answer, hence a time budget rather than a count of messages.
static int send_config(cnfq_queue *queue, struct nlmsghdr *message) {
    uint32_t sequence = (uint32_t)time(NULL);
    message->nlmsg_flags |= NLM_F_ACK;
    message->nlmsg_seq = sequence;
    if (mnl_socket_sendto(queue->socket, message, message->nlmsg_len) < 0) return -1;
    uint8_t *buffer = queue->receive_buffers;
    double deadline = monotonic_seconds() + 2.0;
    while (monotonic_seconds() < deadline) {
        ssize_t length = mnl_socket_recvfrom(queue->socket, buffer, queue->message_size);
        if (length < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return -1;
        }
        const struct nlmsghdr *reply = (const struct nlmsghdr *)buffer;
        int remaining = (int)length;
        for (; mnl_nlmsg_ok(reply, remaining); reply = mnl_nlmsg_next(reply, &remaining)) {
            if (reply->nlmsg_type == NLMSG_ERROR && reply->nlmsg_seq == sequence) {
                const struct nlmsgerr *error = mnl_nlmsg_get_payload(reply);
                if (error->error == 0) return 0;
                errno = -error->error;
                return -1;
            }
            cnfq_packet packet;
            if (cnfq_parse_packet(reply, (size_t)remaining, &packet) == 1) {
                cnfq_verdicts_reset(queue);
                cnfq_verdicts_add(queue, packet.id, CNFQ_ACCEPT, 0, 0);
                cnfq_verdicts_send(queue);
            }
        }
    }
    errno = ETIMEDOUT;
    return -1;
}

int cnfq_bind(cnfq_queue *queue) {
    char buffer[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *message = nfq_nlmsg_put(buffer, NFQNL_MSG_CONFIG, queue->config.queue);
    nfq_nlmsg_cfg_put_cmd(message, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
    nfq_nlmsg_cfg_put_params(message, NFQNL_COPY_PACKET, (int)queue->config.copy_range);
    nfq_nlmsg_cfg_put_qmaxlen(message, queue->config.max_length);
    uint32_t flags = NFQA_CFG_F_GSO | (queue->config.fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
    mnl_attr_put_u32(message, NFQA_CFG_FLAGS, htonl(flags));
    mnl_attr_put_u32(message, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
    return send_config(queue, message);
}

int cnfq_unbind(cnfq_queue *queue) {
    char buffer[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *message = nfq_nlmsg_put(buffer, NFQNL_MSG_CONFIG, queue->config.queue);
    nfq_nlmsg_cfg_put_cmd(message, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
    return send_config(queue, message);
}

int cnfq_receive(cnfq_queue *queue, int dont_wait) {
    // The vector was filled once by cnfq_open; recvmmsg writes back only msg_len, msg_flags and the
    // control length (0, as there is no control buffer), so nothing needs resetting between calls.
    int count = recvmmsg(
        mnl_socket_get_fd(queue->socket), queue->messages, queue->config.batch,
        dont_wait ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
    if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return count;
}

int cnfq_packet_at(const cnfq_queue *queue, unsigned index, cnfq_packet *packet) {
    if (index >= queue->config.batch) return -1;
    return cnfq_parse_packet(queue->vectors[index].iov_base, queue->messages[index].msg_len, packet);
}

void cnfq_verdicts_reset(cnfq_queue *queue) { queue->verdicts_used = 0; }

/// Starts a message of `type` at the end of the verdict buffer, or returns NULL when it is full.
static struct nlmsghdr *next_verdict(cnfq_queue *queue, int type) {
    if (queue->verdicts_used + VERDICT_MESSAGE_SPACE > queue->verdicts_capacity) return NULL;
    memset(queue->verdicts + queue->verdicts_used, 0, VERDICT_MESSAGE_SPACE);
    return nfq_nlmsg_put((char *)queue->verdicts + queue->verdicts_used, type, queue->config.queue);
}

int cnfq_verdicts_add(cnfq_queue *queue, uint32_t id, int verdict, int set_mark, uint32_t mark) {
    struct nlmsghdr *message = next_verdict(queue, NFQNL_MSG_VERDICT);
    if (message == NULL) return -1;
    nfq_nlmsg_verdict_put(message, (int)id, verdict);
    if (set_mark) nfq_nlmsg_verdict_put_mark(message, mark);
    queue->verdicts_used += NLMSG_ALIGN(message->nlmsg_len);
    return 0;
}

int cnfq_verdicts_add_batch(cnfq_queue *queue, uint32_t id, int verdict) {
    struct nlmsghdr *message = next_verdict(queue, NFQNL_MSG_VERDICT_BATCH);
    if (message == NULL) return -1;
    nfq_nlmsg_verdict_put(message, (int)id, verdict);
    queue->verdicts_used += NLMSG_ALIGN(message->nlmsg_len);
    return 0;
}

int cnfq_verdicts_send(cnfq_queue *queue) {
    if (queue->verdicts_used == 0) return 0;
    ssize_t sent = mnl_socket_sendto(queue->socket, queue->verdicts, queue->verdicts_used);
    if (sent < 0) return -1;  // kept, so that a retry (after EINTR) sends them again
    queue->verdicts_used = 0;
    return 0;
}
