import Foundation
import Testing

/// The README's quick start replays `Examples/mixed.pcap` with the shipped rules: what it promises there.
@Suite struct ExampleCaptureTests {
    static let arguments = [
        "replay", "--config", "Rules/sipwarden.toml", "--server", "203.0.113.5", "--server", "2001:db8::5",
    ]

    @Test func theBundledCaptureBansItsScannersAndNeverDropsTheServer() throws {
        let run = try CLITests.run(Self.arguments + ["--json", "Examples/mixed.pcap"])
        #expect(run.status == 0)
        let summary = try CLITests.json(Substring(run.stdout))
        #expect(summary["packets"] as? Int == 3000)
        let bans = try #require(summary["bans"] as? [[String: Any]])
        #expect(bans.map { $0["source"] as? String } == ["192.0.2.116/32", "203.0.113.56/32"])
        #expect(bans.allSatisfy { $0["reason"] as? String == "scanner" && $0["ttl"] as? String == "10m" })
        let sources = try #require(summary["top_sources"] as? [[String: Any]])
        let server = try #require(sources.first { $0["source"] as? String == "203.0.113.5" })
        #expect(server["drops"] as? Int == 0)
        let reasons = try #require(summary["reasons"] as? [String: Int])
        #expect(reasons["outbound"] == 1536)
        // The INVITEs without credentials to +49 numbers from addresses that never authenticated in the
        // capture are held, one per call; a challenged call's resend, whose credentials answer the 407's
        // nonce, passes.
        #expect(reasons["toll-fraud"] == 36)
    }

    /// The quick start shows the replay's summary as the binary prints it.
    @Test func theReadmeShowsTheReplaysOutput() throws {
        let run = try CLITests.run(Self.arguments + ["Examples/mixed.pcap"])
        #expect(run.status == 0)
        let readme = try String(contentsOf: CLITests.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let shown = readme.contains("```\n" + run.stdout + "```\n")
        #expect(shown, "the quick start should show this output:\n\(run.stdout)")
    }

    @Test func withoutServerAReplayThatBansSaysServersShouldBeNamed() throws {
        let unnamed = try CLITests.run(["replay", "--config", "Rules/sipwarden.toml", "Examples/mixed.pcap"])
        #expect(unnamed.status == 0)
        // The unnamed server's own requests (OPTIONS pings and BYEs to many users) get it banned.
        let bans = "bans         3: 192.0.2.116/32 scanner 10m, 203.0.113.56/32 scanner 10m, 203.0.113.5/32 "
        #expect(unnamed.stdout.contains(bans))
        #expect(unnamed.stderr.contains("no --server given"))
        let named = try CLITests.run(Self.arguments + ["Examples/mixed.pcap"])
        #expect(named.status == 0)
        #expect(named.stderr.isEmpty)
    }

    @Test func everyDropInTheBundledCaptureHasAReason() throws {
        let verdicts = FileManager.default.temporaryDirectory.appendingPathComponent("example-\(getpid()).jsonl")
        defer { try? FileManager.default.removeItem(at: verdicts) }
        let run = try CLITests.run(Self.arguments + ["--verdicts", verdicts.path, "Examples/mixed.pcap"])
        #expect(run.status == 0)
        let lines = try String(contentsOf: verdicts, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3000)
        var dropReasons: Set<String> = []
        var banPoints: [[String: Double]] = []
        for line in lines {
            let verdict = try CLITests.json(line)
            if verdict["verdict"] as? String == "drop" { dropReasons.insert(verdict["reason"] as? String ?? "") }
            if verdict["direction"] as? String == "outbound" { #expect(verdict["verdict"] as? String == "accept") }
            let points = try #require(verdict["points"] as? [String: Double])
            if verdict["action"] as? String == "ban" {
                banPoints.append(points)
                #expect(verdict["score"] as? Double == 100)
            }
            // Each caller abroad sends one bare INVITE: held, and within its address's free held calls.
            if verdict["reason"] as? String == "toll-fraud" { #expect(points["toll-fraud"] == nil) }
        }
        #expect(dropReasons == ["scanner", "banned", "toll-fraud", "not-sip"])
        // The points behind each ban: the two scanners' User-Agents.
        #expect(banPoints == [["scanner-user-agent": 100], ["scanner-user-agent": 100]])
    }
}
