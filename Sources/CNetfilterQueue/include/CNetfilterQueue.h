// SPDX-License-Identifier: GPL-2.0-or-later
// A small, prefixed C API over libnetfilter_queue's libmnl-based API (nfq_nlmsg_*) and libmnl.
//
// Why a shim: the kernel headers libnetfilter_queue needs (<linux/netfilter.h> and friends) redefine
// Glibc's `in_addr` when imported into a Swift module, so they are included only by CNetfilterQueue.c.
// This header uses nothing but <stdint.h>, <stddef.h> and opaque types, and imports cleanly.
#ifndef CNETFILTERQUEUE_H
#define CNETFILTERQUEUE_H

#include <stddef.h>
#include <stdint.h>

/// Verdicts, with the values of <linux/netfilter.h> (checked by static asserts in the .c file).
enum {
    CNFQ_DROP = 0,
    CNFQ_ACCEPT = 1,
    /// Re-run the hook: the packet goes through the ruleset again, with the mark set by the verdict.
    CNFQ_REPEAT = 4,
};

/// Netfilter hooks, with the values of <linux/netfilter.h>: where in the path a packet was queued.
enum {
    CNFQ_HOOK_PRE_ROUTING = 0,
    CNFQ_HOOK_LOCAL_IN = 1,
    CNFQ_HOOK_FORWARD = 2,
    CNFQ_HOOK_LOCAL_OUT = 3,
    CNFQ_HOOK_POST_ROUTING = 4,
};

/// One netlink socket bound to one queue, with its receive and verdict buffers (opaque to Swift).
typedef struct cnfq_queue cnfq_queue;

/// One queued packet as parsed from a received message. `payload` points into the receive buffer
/// and is valid until the next `cnfq_receive`.
typedef struct cnfq_packet {
    uint32_t id;
    uint16_t hook;
    /// The link-layer protocol (ETH_P_IP 0x0800, ETH_P_IPV6 0x86DD), host order.
    uint16_t hw_protocol;
    uint32_t mark;
    const uint8_t *payload;
    uint32_t payload_length;
    /// The packet's full length: more than `payload_length` when the copy range truncated it.
    uint32_t original_length;
} cnfq_packet;

/// Queue configuration sent with the bind command.
typedef struct cnfq_config {
    uint16_t queue;
    uint32_t copy_range;
    uint32_t max_length;
    /// NFQA_CFG_F_FAIL_OPEN: the kernel accepts instead of dropping when the queue is full.
    int fail_open;
    /// Packets received per `cnfq_receive` (recvmmsg vector length).
    unsigned batch;
    /// SO_RCVBUFFORCE, in bytes.
    int receive_buffer;
    /// SO_RCVTIMEO, in milliseconds: how long `cnfq_receive` waits for a first packet.
    int receive_timeout_ms;
} cnfq_config;

/// Opens a NETLINK_NETFILTER socket (libmnl's `mnl_socket_open` and `mnl_socket_bind`) with
/// NETLINK_NO_ENOBUFS, the receive buffer and timeout of `config`, and allocates the receive vector and
/// the verdict buffer. Returns NULL with errno set. Does not bind the queue yet: see `cnfq_bind`.
cnfq_queue *cnfq_open(const cnfq_config *config);

/// Binds the queue and configures copy mode and range, queue length and the FAIL_OPEN and GSO flags in
/// one message (`nfq_nlmsg_cfg_put_cmd` NFQNL_CFG_CMD_BIND, `nfq_nlmsg_cfg_put_params`,
/// `nfq_nlmsg_cfg_put_qmaxlen`, NFQA_CFG_FLAGS), then waits for the kernel's answer; packets that arrive
/// meanwhile are accepted. Returns 0, or -1 with errno (EBUSY: another process holds the queue;
/// EPERM: CAP_NET_ADMIN missing).
int cnfq_bind(cnfq_queue *queue);

/// Unbinds the queue (`nfq_nlmsg_cfg_put_cmd` NFQNL_CFG_CMD_UNBIND). The kernel drops what is still
/// queued, so receive and judge everything first. Returns 0 or -1 with errno.
int cnfq_unbind(cnfq_queue *queue);

/// Closes the socket and frees the buffers (`mnl_socket_close`). Call exactly once.
void cnfq_close(cnfq_queue *queue);

/// The socket's file descriptor (`mnl_socket_get_fd`).
int cnfq_fd(const cnfq_queue *queue);

/// Receives up to `batch` messages in one `recvmmsg` call: waits for the first (up to the receive
/// timeout), takes the rest that are already there (MSG_WAITFORONE). Pass `dont_wait` to return at once.
/// Returns the number of messages, 0 on timeout, or -1 with errno (EINTR is the caller's to retry).
int cnfq_receive(cnfq_queue *queue, int dont_wait);

/// Parses received message `index` with `cnfq_parse_packet`.
int cnfq_packet_at(const cnfq_queue *queue, unsigned index, cnfq_packet *packet);
/// Parses one netlink message of `length` bytes: its attributes NFQA_PACKET_HDR, NFQA_PAYLOAD, NFQA_MARK
/// and NFQA_CAP_LEN, each checked for its length (others are skipped). Returns 1 with `packet` filled
/// (`payload` points into `bytes`), 0 for a message that is not a queued packet, -1 for a malformed one
/// (truncated, an attribute running past the message, or no packet header).
int cnfq_parse_packet(const void *bytes, size_t length, cnfq_packet *packet);

/// Starts a new verdict message buffer (forgets what was added and not sent).
void cnfq_verdicts_reset(cnfq_queue *queue);

/// Adds one packet's verdict (`nfq_nlmsg_verdict_put`), with a mark when `set_mark`
/// (`nfq_nlmsg_verdict_put_mark`). Returns 0, or -1 when the buffer is full (send first).
int cnfq_verdicts_add(cnfq_queue *queue, uint32_t id, int verdict, int set_mark, uint32_t mark);

/// Adds a batch verdict (NFQNL_MSG_VERDICT_BATCH): `verdict` for every queued packet with an id up to
/// `id` that has none yet. Returns 0, or -1 when the buffer is full.
int cnfq_verdicts_add_batch(cnfq_queue *queue, uint32_t id, int verdict);

/// Sends every verdict added since the last reset in one `sendto` (`mnl_socket_sendto`), then resets.
/// Returns 0, or -1 with errno and the verdicts kept for a retry.
int cnfq_verdicts_send(cnfq_queue *queue);

#endif
