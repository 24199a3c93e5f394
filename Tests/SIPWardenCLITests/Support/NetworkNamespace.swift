import Foundation
import SIPWardenTestSupport
import Synchronization

/// Whether the tests run as root: live tests (namespaces, netfilter) need it.
let isRoot = getuid() == 0

/// A private network namespace for live tests, named `swfw-PID-N` so that it never collides with another
/// test's or another run's. Nothing sent inside it leaves it.
struct NetworkNamespace {
    let name: String

    private static let created = Atomic<Int>(0)

    /// Creates a namespace with its loopback up.
    static func create() throws -> NetworkNamespace {
        let number = created.add(1, ordering: .relaxed).newValue
        let namespace = NetworkNamespace(name: "swfw-\(getpid())-\(number)")
        try must(["ip", "netns", "add", namespace.name])
        do { try namespace.must(["ip", "link", "set", "lo", "up"]) } catch {
            namespace.delete()
            throw error
        }
        return namespace
    }

    /// Runs a command inside the namespace.
    func run(_ command: [String], input: String? = nil, timeout: Double = 30) throws -> ProcessResult {
        try Subprocess.run("ip", ["netns", "exec", name] + command, input: input, timeout: timeout)
    }

    /// Runs a command inside the namespace and throws unless it exits 0.
    @discardableResult
    func must(_ command: [String], input: String? = nil) throws -> ProcessResult {
        let result = try run(command, input: input)
        guard result.status == 0 else { throw CommandFailed(command: command, result: result) }
        return result
    }

    /// Starts a long-running command inside the namespace; stop it with `stop(_:)`.
    func start(_ command: [String]) throws -> Process {
        let process = Subprocess.start("ip", ["netns", "exec", name] + command)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Ends a process `start(_:)` began (by its PID), and waits for it.
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Deletes the namespace and its interfaces.
    func delete() { Namespaces.delete(name) }

    static func must(_ command: [String]) throws {
        let result = try Subprocess.run(command[0], Array(command.dropFirst()))
        guard result.status == 0 else { throw CommandFailed(command: command, result: result) }
    }

    /// A command that exited with an error.
    struct CommandFailed: Error, CustomStringConvertible {
        let command: [String]
        let result: ProcessResult
        var description: String {
            "\(command.joined(separator: " ")): exit \(result.status): \(result.stderr)\(result.stdout)"
        }
    }
}

/// Two test hosts joined by a veth pair (`eth0` in each): a server at 10.77.0.1 and fd77::1, and a client
/// holding 10.77.0.2… and fd77::2… (one address per simulated host).
struct TestLink {
    let server: NetworkNamespace
    let client: NetworkNamespace

    static let serverV4 = "10.77.0.1"
    static let serverV6 = "fd77::1"

    /// The client's `index`-th address (from 1) in a family: 10.77.0.(1+index) or fd77::(1+index).
    static func client(_ index: Int, v6: Bool) -> String { v6 ? "fd77::\(index + 1)" : "10.77.0.\(index + 1)" }

    /// Creates both namespaces and the link, with `clientAddresses` addresses of each family on the client.
    static func create(clientAddresses: Int = 3) throws -> TestLink {
        let server = try NetworkNamespace.create()
        let client: NetworkNamespace
        do { client = try NetworkNamespace.create() } catch {
            server.delete()
            throw error
        }
        let link = TestLink(server: server, client: client)
        do {
            try NetworkNamespace.must([
                "ip", "link", "add", "eth0", "netns", server.name, "type", "veth", "peer", "name", "eth0", "netns",
                client.name,
            ])
            try server.must(["ip", "address", "add", "\(serverV4)/24", "dev", "eth0"])
            try server.must(["ip", "address", "add", "\(serverV6)/64", "dev", "eth0", "nodad"])
            for index in 1...clientAddresses {
                try client.must(["ip", "address", "add", "\(Self.client(index, v6: false))/24", "dev", "eth0"])
                try client.must(["ip", "address", "add", "\(Self.client(index, v6: true))/64", "dev", "eth0", "nodad"])
            }
            try server.must(["ip", "link", "set", "eth0", "up"])
            try client.must(["ip", "link", "set", "eth0", "up"])
        } catch {
            link.delete()
            throw error
        }
        return link
    }

    func delete() {
        client.delete()
        server.delete()
    }
}
