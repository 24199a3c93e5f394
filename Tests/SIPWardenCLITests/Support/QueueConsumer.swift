/// A minimal NFQUEUE consumer for live tests, in Python over a raw netlink socket: it plays
/// `sipwarden run` the way the firewall expects it to. It binds the given queues and, for every packet,
/// logs the source address (one line) and gives the verdict ACCEPT, or, for a source it is told to ban,
/// REPEAT with a ban mark, so that the firewall's mark rules put the source into a ban set.
enum QueueConsumer {
    /// `python3 -c SCRIPT QUEUES BANNED MARK LOG`: QUEUES and BANNED are comma-separated, MARK a number
    /// (`0x5701`), LOG the file to append sources to. Runs for at most two minutes.
    static let script = #"""
        import socket, struct, sys, time
        # linux/netlink.h, linux/netfilter/nfnetlink_queue.h, linux/netfilter.h
        NETLINK_NETFILTER, NLM_F_REQUEST = 12, 1
        SUBSYS_QUEUE = 3 << 8
        MSG_PACKET, MSG_VERDICT, MSG_CONFIG = 0, 1, 2
        CFG_CMD, CFG_PARAMS, CMD_BIND, COPY_PACKET = 1, 2, 1, 2
        PACKET_HDR, VERDICT_HDR, MARK, PAYLOAD = 1, 2, 3, 10
        NF_ACCEPT, NF_REPEAT = 1, 4

        queues = [int(q) for q in sys.argv[1].split(",")]
        banned = set(sys.argv[2].split(","))
        ban_mark = int(sys.argv[3], 0)
        log = open(sys.argv[4], "a", buffering=1)
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        s.bind((0, 0))

        def attribute(kind, data):
            return struct.pack("=HH", 4 + len(data), kind) + data + b"\0" * (-len(data) % 4)

        def send(message, queue, attributes):
            body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + attributes
            s.send(struct.pack("=IHHII", 16 + len(body), SUBSYS_QUEUE | message, NLM_F_REQUEST, 0, 0) + body)

        for queue in queues:
            bind = attribute(CFG_CMD, struct.pack("!BBH", CMD_BIND, 0, 0))
            send(MSG_CONFIG, queue, bind + attribute(CFG_PARAMS, struct.pack("!IB", 128, COPY_PACKET)))
        s.settimeout(1)
        end = time.time() + 120
        while time.time() < end:
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            offset = 0
            while offset + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, offset)
                if kind == SUBSYS_QUEUE | MSG_PACKET:
                    queue = socket.ntohs(struct.unpack_from("=H", data, offset + 18)[0])
                    at, packet_id, payload = offset + 20, None, b""
                    while at < offset + length:
                        size, name = struct.unpack_from("=HH", data, at)
                        value = data[at + 4 : at + size]
                        if name & 0x7FFF == PACKET_HDR:
                            packet_id = struct.unpack_from("!I", value)[0]
                        elif name & 0x7FFF == PAYLOAD:
                            payload = value
                        at += (size + 3) & ~3
                    if payload[0] >> 4 == 6:
                        source = socket.inet_ntop(socket.AF_INET6, payload[8:24])
                    else:
                        source = socket.inet_ntop(socket.AF_INET, payload[12:16])
                    log.write(source + "\n")
                    if source in banned:
                        verdict = attribute(VERDICT_HDR, struct.pack("!II", NF_REPEAT, packet_id))
                        send(MSG_VERDICT, queue, verdict + attribute(MARK, struct.pack("!I", ban_mark)))
                    else:
                        send(MSG_VERDICT, queue, attribute(VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id)))
                offset += (length + 3) & ~3
        """#
}
