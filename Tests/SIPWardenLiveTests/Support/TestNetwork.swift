import Foundation
import SIPWardenCore
import SIPWardenTestSupport

/// Two test hosts in private network namespaces joined by a veth pair: the server (10.78.0.1, where the
/// daemon, the firewall and sipp's UAS run) and the client (10.78.0.2–.9, legitimate phones and
/// attackers). Nothing leaves the namespaces. Names are unique per process and test (`swd-` + PID).
final class TestNetwork {
    static let server = "10.78.0.1"
    static let phone = "10.78.0.2"
    static let clients = (2...9).map { "10.78.0.\($0)" }
    /// The same hosts over IPv6 (fd78::/64, unique local: never routed anywhere).
    static let serverV6 = "fd78::1"
    static let clientsV6 = (2...9).map { "fd78::\($0)" }
    nonisolated(unsafe) static var counter = 0

    let serverNamespace: String
    let clientNamespace: String
    let directory: URL
    let serverLink: String
    let clientLink: String
    var background: [Background] = []

    /// Whether live tests can run here: root, and the tools they drive.
    static var isAvailable: Bool {
        guard getuid() == 0 else { return false }
        return ["/usr/sbin/ip", "/usr/sbin/iptables", "/usr/sbin/ipset", "/usr/bin/sipp"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    init(_ name: String) throws {
        Self.counter += 1
        let tag = "\(getpid())\(Self.counter)"
        serverNamespace = "swd-s\(tag)"
        clientNamespace = "swd-c\(tag)"
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("swd-\(tag)-\(name)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        serverLink = "swd\(tag)a"
        clientLink = "swd\(tag)b"
        do {
            try Subprocess.check("ip", ["netns", "add", serverNamespace])
            try Subprocess.check("ip", ["netns", "add", clientNamespace])
            try Subprocess.check(
                "ip",
                [
                    "link", "add", serverLink, "netns", serverNamespace, "type", "veth", "peer", "name", clientLink,
                    "netns", clientNamespace,
                ])
            try server(["ip", "link", "set", "lo", "up"])
            try client(["ip", "link", "set", "lo", "up"])
            try server(["ip", "addr", "add", "\(Self.server)/24", "dev", serverLink])
            try server(["ip", "link", "set", serverLink, "up"])
            for address in Self.clients { try client(["ip", "addr", "add", "\(address)/24", "dev", clientLink]) }
            // No duplicate address detection: the addresses are usable at once.
            try server(["ip", "-6", "addr", "add", "\(Self.serverV6)/64", "dev", serverLink, "nodad"])
            for address in Self.clientsV6 {
                try client(["ip", "-6", "addr", "add", "\(address)/64", "dev", clientLink, "nodad"])
            }
            try client(["ip", "link", "set", clientLink, "up"])
        } catch {
            tearDown()
            throw error
        }
    }

    /// Runs a command on the server host.
    @discardableResult
    func server(_ arguments: [String], timeout: Double = 30) throws -> String {
        try Subprocess.check("ip", ["netns", "exec", serverNamespace] + arguments, timeout: timeout)
    }

    /// Runs a command on the client host (exit status is the caller's to judge).
    @discardableResult
    func client(_ arguments: [String], timeout: Double = 30) throws -> ProcessResult {
        try Subprocess.run(
            "ip", ["netns", "exec", clientNamespace] + arguments, environment: ["HOME": directory.path],
            timeout: timeout)
    }

    /// Runs a tool that cannot choose its source address (SIPVicious binds, but sends from the route's
    /// preferred source) from `address`, then gives the route back to the phone.
    @discardableResult
    func client(from address: String, _ arguments: [String], timeout: Double) throws -> ProcessResult {
        let subnet = "10.78.0.0/24"
        _ = try client(["ip", "route", "replace", subnet, "dev", clientLink, "src", address])
        defer { _ = try? client(["ip", "route", "replace", subnet, "dev", clientLink, "src", Self.phone]) }
        return try client(arguments, timeout: timeout)
    }

    /// Starts a program on the server host in the background; stopped at tear-down.
    @discardableResult
    func startOnServer(_ arguments: [String], log name: String, environment: [String: String] = [:]) throws
        -> Background
    {
        let program = try Background(
            ["ip", "netns", "exec", serverNamespace] + arguments, log: directory.appendingPathComponent(name),
            environment: environment)
        background.append(program)
        return program
    }

    /// Starts a program on the client host in the background; stopped at tear-down.
    func startOnClient(_ arguments: [String], log name: String) throws -> Background {
        let program = try Background(
            ["ip", "netns", "exec", clientNamespace] + arguments, log: directory.appendingPathComponent(name),
            environment: ["HOME": directory.path])
        background.append(program)
        return program
    }

    /// The TCP port of a second sipp UAS that takes the floods: a client's connection reset (the filter
    /// answers a segment it cannot judge again with a reset, and the client's TCP resets the server's side
    /// when answers reach it) ends one connection of a real server, but all of sipp.
    static let tcpFloodPort = 5062

    /// sipp's UAS on the server's SIP port, over IPv4 and over IPv6 (UDP), and with `tcp` also over TCP
    /// on IPv4, on the SIP port and on `tcpFloodPort` (their media on other ports than the UDP one's).
    func startServerUAS(tcp: Bool = false) throws {
        var servers = [(Self.server, 5060, "uas.log", [String]()), (Self.serverV6, 5060, "uas6.log", [])]
        if tcp {
            servers.append((Self.server, 5060, "uas-tcp.log", ["-t", "t1", "-mp", "6100"]))
            servers.append((Self.server, Self.tcpFloodPort, "uas-tcp-flood.log", ["-t", "t1", "-mp", "6200"]))
        }
        for (address, port, log, transport) in servers {
            try startOnServer(
                ["sipp", "-sn", "uas", "-i", address, "-p", "\(port)", "-nostdin", "-timeout", "120s"] + transport,
                log: log)
        }
        usleep(300_000)
        // Over TCP, until sipp listens (up to 5 s: a busy CI machine starts it late), or a phone that
        // connects first is refused and its sipp gives up.
        for _ in 0..<50 where tcp {
            let listening = try server(["ss", "-Hltn"])
            if listening.contains("\(Self.server):5060"), listening.contains("\(Self.server):\(Self.tcpFloodPort)") {
                break
            }
            usleep(100_000)
        }
    }

    /// The server's address in the family of `client`, with `port`, as sipp's remote host.
    static func remote(for client: String, port: Int = 5060) -> String {
        client.contains(":") ? "[\(serverV6)]:\(port)" : "\(server):\(port)"
    }

    /// sipp's transport option: UDP, or all calls over one TCP connection.
    static func transport(tcp: Bool) -> [String] { tcp ? ["-t", "t1"] : [] }

    /// sipp calls from `address`, `rate` per second, each held 100 ms: sipp exits 0 when all completed.
    static func callArguments(_ count: Int, from address: String, port: Int, rate: Int = 10, tcp: Bool = false)
        -> [String]
    {
        [
            "sipp", "-sn", "uac", remote(for: address), "-i", address, "-p", "\(port)", "-m", "\(count)", "-r",
            "\(rate)",
            "-l", "10", "-d", "100", "-nostdin", "-timeout", "20s", "-recv_timeout", "5000",
        ] + transport(tcp: tcp)
    }

    /// Legitimate sipp calls from `address`: returns whether every call completed.
    func legitimateCalls(_ count: Int, from address: String = TestNetwork.phone, port: Int = 5070, tcp: Bool = false)
        throws -> Bool
    {
        try client(Self.callArguments(count, from: address, port: port, tcp: tcp), timeout: 30).status == 0
    }

    /// An INVITE flood from `address`: `count` calls at `rate` per second, bounded in time. Over TCP it
    /// goes to the UAS on `tcpFloodPort`.
    @discardableResult
    func inviteFlood(from address: String, count: Int = 2000, rate: Int = 1000, port: Int = 5071, tcp: Bool = false)
        throws -> ProcessResult
    {
        try client(
            [
                "sipp", "-sn", "uac", Self.remote(for: address, port: tcp ? Self.tcpFloodPort : 5060), "-i", address,
                "-p", "\(port)", "-m", "\(count)", "-r",
                "\(rate)", "-l", "\(count)", "-nostdin", "-timeout", "6s", "-recv_timeout", "1000",
            ] + Self.transport(tcp: tcp), timeout: 15)
    }

    /// The calls sipp reports completed in its final statistics.
    static func successfulCalls(_ output: String) -> Int? {
        output.split(separator: "\n").last { $0.contains("Successful call") }?.split(separator: " ").last
            .flatMap { Int($0) }
    }

    /// Opens a TCP connection from `address` to the server's SIP port and sends one OPTIONS with
    /// `userAgent`: whether the connection was made (a banned source's is not).
    func tcpOptions(from address: String, userAgent: String) throws -> Bool {
        let script = """
            import socket, sys
            try:
                s = socket.create_connection(("\(Self.server)", 5060), timeout=2, source_address=("\(address)", 0))
            except OSError:
                sys.exit(1)
            s.sendall(("OPTIONS sip:100@\(Self.server) SIP/2.0\\r\\n"
                "Via: SIP/2.0/TCP \(address):5090;branch=z9hG4bK-tcp-scan\\r\\n"
                "From: <sip:100@\(address)>;tag=scan\\r\\nTo: <sip:100@\(Self.server)>\\r\\n"
                "Call-ID: tcp-scan@\(address)\\r\\nCSeq: 1 OPTIONS\\r\\nMax-Forwards: 70\\r\\n"
                "User-Agent: \(userAgent)\\r\\nContent-Length: 0\\r\\n\\r\\n").encode())
            """
        return try client(["python3", "-c", script], timeout: 10).status == 0
    }

    /// Opens a TCP connection from `address` to the server's SIP port and sends one INVITE without
    /// credentials to `number`: whether the server's side reset the connection within 3 s (a refused
    /// message's segment answered with a TCP reset), rather than leaving it waiting.
    func tcpCallIsReset(from address: String, to number: String) throws -> Bool {
        let script = """
            import socket, sys
            s = socket.create_connection(("\(Self.server)", 5060), timeout=3, source_address=("\(address)", 0))
            s.sendall(("INVITE sip:\(number)@\(Self.server) SIP/2.0\\r\\n"
                "Via: SIP/2.0/TCP \(address):5090;branch=z9hG4bK-tcp-held\\r\\n"
                "From: <sip:200@\(address)>;tag=held\\r\\nTo: <sip:\(number)@\(Self.server)>\\r\\n"
                "Call-ID: tcp-held@\(address)\\r\\nCSeq: 1 INVITE\\r\\nMax-Forwards: 70\\r\\n"
                "Contact: <sip:200@\(address):5090;transport=tcp>\\r\\nContent-Length: 0\\r\\n\\r\\n").encode())
            try:
                s.recv(1)
            except ConnectionResetError:
                sys.exit(0)
            except OSError:
                pass
            sys.exit(1)
            """
        return try client(["python3", "-c", script], timeout: 10).status == 0
    }

    /// Members of a kernel ban set on the server.
    func banSetMembers(_ name: String) throws -> [String] {
        let text = try server(["ipset", "list", name])
        guard let members = text.range(of: "Members:\n") else { return [] }
        return text[members.upperBound...].split(separator: "\n").compactMap { $0.split(separator: " ").first }
            .map(String.init)
    }

    /// From now on, counts the packets from `source` that reach the server's NFQUEUE rules (the daemon),
    /// in a rule without a target just before the first of them; `queuedPackets(from:)` reads the count.
    func countQueuedPackets(from source: String) throws {
        let rules = try server(["iptables", "-S", "INPUT"]).split(separator: "\n").filter { $0.hasPrefix("-A INPUT") }
        // Without an NFQUEUE rule the count goes first, and counts what the ban sets drop too.
        let queue = rules.firstIndex { $0.contains("NFQUEUE") } ?? 0
        try server([
            "iptables", "-I", "INPUT", "\(queue + 1)", "-s", source, "-m", "comment", "--comment",
            "queued-from-\(source)",
        ])
    }

    /// The packets from `source` counted since `countQueuedPackets(from:)`; -1 without a count.
    func queuedPackets(from source: String) throws -> Int {
        let line = try server(["iptables", "-L", "INPUT", "-v", "-x", "-n"]).split(separator: "\n")
            .first { $0.contains("queued-from-\(source)") }
        return line?.split(separator: " ").first.flatMap { Int($0) } ?? -1
    }

    /// Every address in any of the rules' ban sets, IPv4 and IPv6.
    func bannedInKernel(_ sets: BanSets) throws -> Set<String> {
        var all = Set<String>()
        for set in sets.sets { all.formUnion(try banSetMembers(set.name)) }
        return all
    }

    /// Stops what the test started (by PID) and deletes the namespaces, whatever happened.
    func tearDown() {
        for program in background.reversed() { program.stop() }
        background.removeAll()
        Namespaces.delete(serverNamespace)
        Namespaces.delete(clientNamespace)
        // The programs' logs stay for a look after a failed run only when asked for.
        if ProcessInfo.processInfo.environment["SIPWARDEN_KEEP_TEST_FILES"] == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    deinit { tearDown() }
}
