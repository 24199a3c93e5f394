import ArgumentParser
import Foundation
import SIPWardenCapture
import SIPWardenCore

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run a capture through the filter offline and report what it would have done.",
        discussion: """
            Every frame goes through what the inline filter does: IP fragments are reassembled (as the \
            kernel does before NFQUEUE), SIP over TCP is framed by Content-Length, each message is \
            classified and, when it is on a SIP port of the rules, decided by the engine, using the \
            packets' own timestamps as the clock. SIP found on other ports is counted but not judged.

            Reads pcap and pcapng (Ethernet with VLAN tags, Linux cooked v1/v2, raw IP, loopback).
            """
    )

    @OptionGroup var rules: ConfigOption

    @Option(
        name: .customLong("server"),
        help: ArgumentHelp(
            "An address of the protected host; packets from it are outbound (repeatable).",
            discussion: "Without --server, responses count as outbound and requests as inbound."))
    var servers: [String] = []

    @Option(help: "Write one JSON object per packet (src, dst, verdict, reason, score, points, …) to this file.")
    var verdicts: String?

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    @Argument(help: "The capture file (pcap or pcapng).", completion: .file())
    var capture: String

    func validate() throws {
        for text in servers where IPAddress(text) == nil {
            throw ValidationError("--server \(text): not an IP address")
        }
    }

    func run() throws {
        let ruleSet = try rules.load()
        try requireMemory(for: ruleSet, queues: 1)
        let serverAddresses = Set(servers.compactMap(IPAddress.init))
        let file: CaptureFile
        do { file = try CaptureFile(path: capture) } catch { throw InputError(description: error.description) }
        var verdictLog: VerdictLog?
        if let verdicts { verdictLog = try VerdictLog(path: verdicts, besides: capture) }

        var replayer = Replayer(rules: ruleSet, servers: serverAddresses)
        var frameNumber = 0
        // A capture cut short (a capture still being written, a copy interrupted) is reported after
        // what it held: its frames are replayed, summarised and logged all the same.
        var cutShort: CaptureError?
        do {
            try file.forEachFrame { time, frame in
                frameNumber += 1
                let outcome = replayer.replay(frame: frame, linkType: file.linkType, at: time)
                verdictLog?.write(frame: frameNumber, time: time, outcome)
            }
        } catch {
            cutShort = error
        }
        try verdictLog?.close()
        if json {
            print(replayer.summary.json(bans: replayer.bans, counters: replayer.engine.counters).rendered)
        } else {
            print(
                SummaryText(
                    capture: capture, linkType: file.linkType, summary: replayer.summary, bans: replayer.bans
                ).description)
        }
        // Without --server the protected host's own requests (OPTIONS pings, BYEs) are judged as a
        // client's: a server banned in a replay is most often one that was not named.
        if serverAddresses.isEmpty, !replayer.bans.isEmpty {
            printError(
                "note: no --server given, so requests the protected host sent were judged as inbound; "
                    + "if a banned address is your server's, replay with --server ADDR")
        }
        if let cutShort {
            printError("\(cutShort) after frame \(frameNumber): the summary covers the frames before")
            throw ExitCode(1)
        }
    }
}

/// The `--verdicts` file: one JSON object per packet, in capture order. Written in place (a FIFO, a
/// device, a link stay what they are; a file is truncated), never the capture being replayed; a write
/// error (a full disk) is reported when it closes.
struct VerdictLog {
    let path: String
    let descriptor: Int32
    var pending = ""
    var failure: Int32?

    init(path: String, besides capture: String) throws(InputError) {
        var (written, read) = (stat(), stat())
        if stat(path, &written) == 0, stat(capture, &read) == 0, written.st_dev == read.st_dev,
            written.st_ino == read.st_ino
        {
            throw InputError(description: "\(path): is the capture being replayed, not a verdicts file")
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw InputError(description: "\(path): cannot write verdicts file: \(systemMessage())")
        }
        self.path = path
        self.descriptor = descriptor
        pending.reserveCapacity(1 << 20)
    }

    mutating func write(frame: Int, time: Timestamp, _ outcome: PacketFilter.Outcome) {
        pending += "{\"frame\":\(frame),\"time\":\(time),\"src\":"
        pending += outcome.source.map { "\"\($0)\"" } ?? "null"
        pending += ",\"dst\":"
        pending += outcome.destination.map { "\"\($0)\"" } ?? "null"
        pending += ",\"direction\":\"\(outcome.direction.rawValue)\",\"verdict\":\""
        pending += outcome.decision.drops ? "drop" : "accept"
        pending +=
            "\",\"action\":\"\(outcome.decision.verdict.rawValue)\",\"reason\":\"\(outcome.decision.reason.rawValue)\""
        pending += ",\"score\":\(Self.tenths(outcome.decision.score)),\"points\":{"
        let parts = outcome.decision.parts
        if !parts.isEmpty {
            let scored = RuleSet.Detector.allCases.filter { parts[$0] != 0 }
            pending += scored.map { "\"\($0.rawValue)\":\(Self.tenths(parts[$0]))" }.joined(separator: ",")
        }
        pending += "},\"messages\":\(outcome.messages)}\n"
        if pending.utf8.count >= 1 << 20 { flush() }
    }

    /// `value` to one decimal, as a JSON number: `50`, `102.5`.
    static func tenths(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        guard rounded.isFinite else { return "null" }
        return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int(rounded)) : String(rounded)
    }

    /// Writes what is pending, unless a write failed before.
    mutating func flush() {
        defer { pending.removeAll(keepingCapacity: true) }
        guard failure == nil else { return }
        pending.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let count = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    failure = errno
                    return
                }
                done += count
            }
        }
    }

    mutating func close() throws(InputError) {
        flush()
        if Glibc.close(descriptor) != 0, failure == nil { failure = errno }
        if let failure {
            throw InputError(description: "\(path): cannot write verdicts file: \(systemMessage(failure))")
        }
    }
}

/// The readable replay summary.
struct SummaryText: CustomStringConvertible {
    let capture: String
    let linkType: LinkType
    let summary: ReplaySummary
    let bans: [BanRecord]

    var description: String {
        func list<Key>(_ counts: [Key: Int], _ name: (Key) -> String) -> String {
            counts.sorted { ($1.value, name($0.key)) < ($0.value, name($1.key)) }
                .map { "\(name($0.key)) \($0.value)" }.joined(separator: ", ")
        }
        let span =
            zip([summary.first], [summary.last]).compactMap { first, last in
                first.flatMap { f in last.map { String(format: "%.3f s", $0.seconds - f.seconds) } }
            }.first ?? "0 s"
        var rows = [
            ["capture", "\(capture) (\(linkType), \(summary.packets) packets over \(span))"],
            [
                "requests",
                "\(summary.requestCount)"
                    + (summary.requestCount > 0 ? " (\(list(summary.requestsByMethod) { $0 }))" : ""),
            ],
            [
                "responses",
                "\(summary.responseCount)"
                    + (summary.responseCount > 0 ? " (\(list(summary.responsesByStatus) { String($0) }))" : ""),
            ],
            ["verdicts", list(summary.verdicts) { $0.rawValue }],
            ["reasons", list(summary.reasons) { $0.rawValue }],
        ]
        if summary.undecodable > 0 { rows.append(["undecodable", "\(summary.undecodable) frames"]) }
        if summary.reassembledDatagrams > 0 {
            rows.append(["reassembled", "\(summary.reassembledDatagrams) datagrams"])
        }
        if !bans.isEmpty {
            let listed = bans.prefix(10).map { "\($0.target) \($0.reason.rawValue) \(RuleDuration.text($0.ttl))" }
            rows.append(["bans", "\(bans.count): " + listed.joined(separator: ", ") + (bans.count > 10 ? ", …" : "")])
        }
        let top = summary.topSources(5).map { "\($0.address) \($0.packets) (\($0.drops) dropped)" }
        if !top.isEmpty { rows.append(["top sources", top.joined(separator: ", ")]) }
        return table(rows)
    }
}
