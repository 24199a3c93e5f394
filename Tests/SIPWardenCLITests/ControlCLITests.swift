import Foundation
import Testing

/// `bans list`, `unban` and `stats` without a running daemon: one clear line and exit 1; bad
/// arguments are usage errors (exit 2).
@Suite struct ControlCLITests {
    static let socket = NSTemporaryDirectory() + "swd-cli-none-\(getpid()).sock"

    @Test(arguments: [["stats"], ["bans", "list"], ["bans"], ["unban", "192.0.2.1"], ["stats", "--json"]])
    func withoutADaemonTheAnswerIsExitOne(command: [String]) throws {
        let run = try CLITests.run(command + ["--control-socket", Self.socket])
        #expect(run.status == 1)
        #expect(run.stderr.contains("no sipwarden daemon answers on \(Self.socket)"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test func unbanOfSomethingThatIsNoAddressIsAUsageError() throws {
        let run = try CLITests.run(["unban", "not-an-address", "--control-socket", Self.socket])
        #expect(run.status == 2)
        #expect(run.stderr.contains("not an IP address or CIDR prefix"))
    }

    @Test func runWithoutPrivilegesOrWithABadRuleFileIsExitOne() throws {
        let file = NSTemporaryDirectory() + "swd-cli-bad-\(getpid()).toml"
        try "[daemon]\nqueues = \"x\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        let run = try CLITests.run(["run", "--config", file])
        #expect(run.status == 1)
        #expect(run.stderr.contains("daemon.queues"))
    }
}
