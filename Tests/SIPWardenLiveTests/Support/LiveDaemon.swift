import Foundation
import SIPWardenCore
import SIPWardenTestSupport

/// `sipwarden run` on the server host, with a rule file of the test's own, and its CLI beside it.
final class LiveDaemon {
    /// The binary next to the test bundle (`swift build` puts both in the same folder).
    static let binary: String = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("sipwarden").path),
            folder.path != "/"
        {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("sipwarden").path
    }()

    let network: TestNetwork
    let config: URL
    private(set) var process: Background

    /// Writes `rules` (TOML, the daemon section's socket and state file added), loads the firewall generated from
    /// them and starts the daemon.
    init(on network: TestNetwork, rules text: String = "", arguments: [String] = []) throws {
        self.network = network
        config = network.directory.appendingPathComponent("sipwarden.toml")
        try Self.write(text, to: config, network: network)
        try TestFirewall.install(on: network, config: config)
        process = try network.startOnServer(
            [Self.binary, "run", "--config", config.path] + arguments, log: "daemon.log")
        try waitUntilAnswering()
    }

    /// Starts the daemon again (after it stopped) on the same rule file and firewall, logging to `log`.
    func restart(log: String) throws {
        process = try network.startOnServer([Self.binary, "run", "--config", config.path], log: log)
        try waitUntilAnswering()
    }

    /// The proven sources in the state file, as `ADDRESS FLAG...` (their times left out); empty when
    /// there is no file.
    var savedSources: [String] {
        let file = network.directory.appendingPathComponent("sources")
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
            $0.split(separator: " ").dropLast().joined(separator: " ")
        }
    }

    static func write(_ text: String, to config: URL, network: TestNetwork) throws {
        let socket = network.directory.appendingPathComponent("control.sock").path
        let state = network.directory.appendingPathComponent("sources").path
        let daemon =
            "[daemon]\ncontrol_socket = \"\(socket)\"\nmetrics = \"127.0.0.1:9595\"\nstate_file = \"\(state)\"\n"
        try (daemon + text).write(to: config, atomically: true, encoding: .utf8)
    }

    /// Replaces the rule file (as an operator editing it would) and sends SIGHUP.
    func reload(with text: String) throws {
        try Self.write(text, to: config, network: network)
        process.signal(SIGHUP)
        usleep(500_000)
    }

    func waitUntilAnswering() throws {
        for _ in 0..<100 {
            if (try? cli(["stats", "--json"])) != nil { return }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        throw Subprocess.Failure(
            command: "sipwarden run", result: ProcessResult(status: -1, stdout: "", stderr: process.output))
    }

    /// Runs a `sipwarden` command against this daemon on the server host.
    @discardableResult
    func cli(_ arguments: [String]) throws -> String {
        try network.server([Self.binary] + arguments + ["--config", config.path], timeout: 20)
    }

    /// `sipwarden stats --json`, parsed.
    func stats() throws -> [String: Any] {
        let text = try cli(["stats", "--json"])
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }

    /// Packets that reached the daemon so far.
    func packets() throws -> Int { try stats()["packets"] as? Int ?? -1 }

    /// How many packets got `verdict` for `reason`.
    func verdicts(_ verdict: String, _ reason: String) throws -> Int {
        let list = try stats()["verdicts"] as? [[String: Any]] ?? []
        return list.first { $0["verdict"] as? String == verdict && $0["reason"] as? String == reason }?["count"]
            as? Int ?? 0
    }

    /// The targets of `sipwarden bans list --json`.
    func bans() throws -> [String] {
        let text = try cli(["bans", "list", "--json"])
        let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
        return list.compactMap { $0["target"] as? String }
    }

    /// The Prometheus text from the metrics address.
    func metrics() throws -> String {
        let script = """
            import urllib.request
            print(urllib.request.urlopen("http://127.0.0.1:9595/metrics", timeout=5).read().decode())
            """
        return try network.server(["python3", "-c", script])
    }

    var log: String { process.output }
}
