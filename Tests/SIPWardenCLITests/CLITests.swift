import Foundation
import SIPWardenTestSupport
import Testing

/// Runs the built `sipwarden` binary: exit codes, messages on stderr, and output formats.
@Suite struct CLITests {
    static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent()
    }()

    static let corpus = repository.deletingLastPathComponent().appendingPathComponent("shared/corpus")

    /// The binary next to the test bundle (`swift build` puts both in the same folder).
    static let binary: URL = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("sipwarden").path),
            folder.path != "/"
        {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("sipwarden")
    }()

    /// Runs the binary from the repository's root.
    static func run(_ arguments: [String], input: String? = nil) throws -> ProcessResult {
        try Subprocess.run(binary.path, arguments, input: input, in: repository)
    }

    static func json(_ line: Substring) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func classifyJSONIsOneObjectPerFileInOrder() throws {
        let files = ["3.1.1-valid/esc02.dat", "3.1.2-invalid/badvers.dat", "3.1.1-valid/noreason.dat"].map {
            Self.corpus.appendingPathComponent("torture/rfc4475/\($0)").path
        }
        let run = try Self.run(["classify", "--json"] + files)
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n")
        try #require(lines.count == 3)
        let first = try Self.json(lines[0])
        #expect(first["file"] as? String == files[0])
        #expect(first["kind"] as? String == "request")
        #expect(first["method"] as? String == "RE%47IST%45R")
        #expect(first["malformed"] as? Bool == false)
        let second = try Self.json(lines[1])
        #expect(second["malformed"] as? Bool == true)
        #expect(second["anomalies"] as? [String] == ["bad-version"])
        let third = try Self.json(lines[2])
        #expect(third["kind"] as? String == "response")
        #expect(third["status"] as? Int == 100)
    }

    @Test func classifyReportsAnUnreadableFileAndGoesOn() throws {
        let good = Self.corpus.appendingPathComponent("torture/rfc4475/3.1.1-valid/wsinv.dat").path
        let run = try Self.run(["classify", "/nonexistent/message.sip", good])
        #expect(run.status == 1)
        #expect(run.stderr == "sipwarden: /nonexistent/message.sip: cannot read file: No such file or directory\n")
        #expect(run.stdout.contains("wsinv.dat"))
        #expect(run.stdout.contains("INVITE"))
        // With no file read, there is no table: stdout stays empty.
        let none = try Self.run(["classify", "/nonexistent/message.sip"])
        #expect(none.status == 1)
        #expect(none.stdout.isEmpty)
    }

    @Test func replayWritesOneVerdictPerPacketAndASummary() throws {
        let capture = Self.corpus.appendingPathComponent("pcaps/edge-cases/zeek_sip-junk-before-request.pcap").path
        let verdicts = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-verdicts.jsonl")
        let run = try Self.run([
            "replay", "--config", "Rules/sipwarden.toml", "--verdicts", verdicts.path, "--json", capture,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try String(contentsOf: verdicts, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let first = try Self.json(lines[0])
        #expect(first["verdict"] as? String == "accept")
        #expect(first["reason"] as? String == "keep-alive")
        let second = try Self.json(lines[1])
        #expect(second["src"] as? String == first["src"] as? String)
        #expect(second["verdict"] as? String == "drop")
        #expect(second["reason"] as? String == "malformed")
        let summary = try Self.json(Substring(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(summary["packets"] as? Int == 2)
        let sip = try #require(summary["sip"] as? [String: Any])
        #expect((sip["requests_by_method"] as? [String: Int]) == ["REGISTER": 1])
    }

    /// `--verdicts` writes in place: never over the capture being replayed (it once replaced it), a
    /// device stays a device, a symbolic link a link, and a write error (a full disk) is exit 1.
    @Test func verdictsAreWrittenInPlaceNeverOverTheCaptureAndAWriteErrorIsExitOne() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swd-verdicts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = folder.appendingPathComponent("c.pcap")
        let original = try Data(contentsOf: Self.repository.appendingPathComponent("Examples/mixed.pcap"))
        try original.write(to: capture)
        let alias = folder.appendingPathComponent("alias.pcap")
        try FileManager.default.createSymbolicLink(at: alias, withDestinationURL: capture)
        for target in [capture, alias] {
            let over = try Self.run(["replay", "--verdicts", target.path, capture.path])
            #expect(over.status == 1 && over.stderr.contains("is the capture being replayed"), "\(over.stderr)")
        }
        #expect(try Data(contentsOf: capture) == original)
        let link = folder.appendingPathComponent("log.jsonl")
        let target = folder.appendingPathComponent("target.jsonl")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        #expect(try Self.run(["replay", "--verdicts", link.path, capture.path]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == target.path)
        #expect(try String(contentsOf: target, encoding: .utf8).split(separator: "\n").count == 3000)
        let full = try Self.run(["replay", "--verdicts", "/dev/full", capture.path])
        #expect(full.status == 1 && full.stderr.contains("/dev/full: cannot write verdicts file: No space left"))
        var device = stat()
        #expect(stat("/dev/full", &device) == 0 && device.st_mode & S_IFMT == S_IFCHR)
    }

    /// Output that does not all reach its file (a full disk) is exit 1, with the reason: a firewall cut
    /// short must not look like a whole one.
    @Test(arguments: [["firewall", "--format", "nft"], ["check"], ["replay", "Examples/mixed.pcap"]])
    func outputThatCannotBeWrittenIsExitOne(arguments: [String]) throws {
        let run = try Subprocess.run(
            "/bin/sh", ["-c", "exec \"$@\" > /dev/full", "sh", Self.binary.path] + arguments, in: Self.repository)
        #expect(
            run.status == 1 && run.stderr.contains("sipwarden: cannot write the output: No space left on device"),
            "\(run.stderr)")
    }

    @Test func replayOfAMissingCaptureIsOneLineAndExitOne() throws {
        let run = try Self.run(["replay", "/nonexistent/capture.pcap"])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("sipwarden: /nonexistent/capture.pcap: cannot read capture"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test func aCaptureCutShortIsReplayedUpToTheCutThenExitOne() throws {
        let whole = try Data(contentsOf: Self.repository.appendingPathComponent("Examples/mixed.pcap"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swd-cut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = folder.appendingPathComponent("cut.pcap")
        try whole.prefix(100_000).write(to: capture)
        let verdicts = folder.appendingPathComponent("verdicts.jsonl")
        let run = try Self.run(["replay", "--verdicts", verdicts.path, "--json", capture.path])
        #expect(run.status == 1)
        let summary = try Self.json(try #require(run.stdout.split(separator: "\n").first))
        let packets = try #require(summary["packets"] as? Int)
        #expect(packets > 100)
        let logged = try String(contentsOf: verdicts, encoding: .utf8).split(separator: "\n")
        #expect(logged.count == packets)
        let message = try #require(run.stderr.split(separator: "\n").last)
        #expect(message.hasPrefix("sipwarden: \(capture.path): corrupt capture: "))
        #expect(message.hasSuffix(" after frame \(packets): the summary covers the frames before"))
    }

    @Test func aBadRuleFileIsExitOneWithItsLocation() throws {
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("sipwarden-bad.toml")
        try Data("[daemon]\nmode = \"loud\"\n[trust]\nalow = []\n".utf8).write(to: rules)
        let capture = Self.corpus.appendingPathComponent("pcaps/edge-cases/zeek_sip-junk-before-request.pcap").path
        let run = try Self.run(["replay", "--config", rules.path, capture])
        #expect(run.status == 1)
        // Every problem on a line of its own, as `check` prints them.
        #expect(
            run.stderr.split(separator: "\n") == [
                "sipwarden: \(rules.path):2: daemon.mode = \"loud\": expected \"enforce\" or \"monitor\"",
                "sipwarden: \(rules.path):4: unknown key 'trust.alow' (did you mean 'trust.allow'?)",
                "sipwarden: 2 errors in the rules",
            ])
    }

    @Test func usageErrorsExitTwo() throws {
        #expect(try Self.run(["replay"]).status == 2)
        #expect(try Self.run(["no-such-command"]).status == 2)
        let help = try Self.run(["replay", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--verdicts"))
    }
}
