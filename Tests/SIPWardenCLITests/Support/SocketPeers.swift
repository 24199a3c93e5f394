/// Tiny Python socket programs for live tests: a server that answers on UDP and TCP ports, and a probe
/// that says whether a port answers. Both are bounded in time.
enum SocketPeers {
    /// `python3 -c SERVER UDP_PORTS TCP_PORTS [hold]` (comma-separated): echoes UDP datagrams and greets
    /// TCP connections on every port, IPv4 and IPv6, for at most two minutes; with `hold`, keeps each
    /// connection open after the greeting.
    static let server = """
        import select, socket, sys, time
        listeners, held = [], []
        for family, anywhere in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            for kind, ports in ((socket.SOCK_DGRAM, sys.argv[1]), (socket.SOCK_STREAM, sys.argv[2])):
                for port in filter(None, ports.split(",")):
                    s = socket.socket(family, kind)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if family == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((anywhere, int(port)))
                    if kind == socket.SOCK_STREAM:
                        s.listen(16)
                    listeners.append(s)
        end = time.time() + 120
        while time.time() < end:
            ready, _, _ = select.select(listeners, [], [], 1)
            for s in ready:
                if s.type == socket.SOCK_DGRAM:
                    data, peer = s.recvfrom(4096)
                    s.sendto(data, peer)
                else:
                    connection, _ = s.accept()
                    connection.sendall(b"hi")
                    if sys.argv[3:] == ["hold"]:
                        held.append(connection)
                    else:
                        connection.close()
        """

    /// `python3 -c PROBE udp|tcp DESTINATION PORT SOURCE`: exit 0 when the port answers within a second
    /// (an echoed datagram, or a TCP greeting), 1 otherwise.
    static let probe = """
        import socket, sys
        kind, destination, port, source = sys.argv[1:5]
        family = socket.AF_INET6 if ":" in destination else socket.AF_INET
        s = socket.socket(family, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
        s.settimeout(1.0)
        s.bind((source, 0))
        try:
            if kind == "udp":
                s.sendto(b"OPTIONS sip:probe@test SIP/2.0\\r\\n\\r\\n", (destination, int(port)))
                s.recvfrom(4096)
            else:
                s.connect((destination, int(port)))
                s.recv(2)
        except OSError:
            sys.exit(1)
        """

    /// `python3 -c SPOOF ADDRESS PORT`: sends one UDP datagram to ADDRESS (IPv6) that claims to come from
    /// ADDRESS itself, through a raw socket, as an attacker would spoof the server's own address.
    static let spoof = """
        import socket, struct, sys
        address, port = socket.inet_pton(socket.AF_INET6, sys.argv[1]), int(sys.argv[2])
        payload = b"OPTIONS sip:spoofed@test SIP/2.0\\r\\n\\r\\n"
        length = 8 + len(payload)
        def checksum(data):
            total = sum(struct.unpack("!%dH" % (len(data) // 2), data + b"\\0" * (len(data) % 2)))
            while total >> 16:
                total = (total & 0xFFFF) + (total >> 16)
            return ~total & 0xFFFF or 0xFFFF
        datagram = struct.pack("!HHHH", 40000, port, length, 0) + payload
        pseudo = address + address + struct.pack("!I3xB", length, socket.IPPROTO_UDP)
        datagram = datagram[:6] + struct.pack("!H", checksum(pseudo + datagram)) + datagram[8:]
        header = struct.pack("!IHBB", 6 << 28, length, socket.IPPROTO_UDP, 64) + address + address
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.sendto(header + datagram, (sys.argv[1], 0))
        """

    /// `python3 -c HOLD DESTINATION PORT SOURCE`: connects from SOURCE and keeps the connection open for
    /// at most two minutes.
    static let hold = """
        import socket, sys, time
        destination, port, source = sys.argv[1:4]
        family = socket.AF_INET6 if ":" in destination else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.connect((destination, int(port)))
        time.sleep(120)
        """
}
