/// Counts over a whole replay: packets, SIP messages by method and status, verdicts by reason, sources.
public struct ReplaySummary: Sendable, PacketObserver {
    public var packets = 0
    public var undecodable = 0
    /// Fragments that completed a datagram.
    public var reassembledDatagrams = 0
    /// SIP requests per known method (indexed by `SIPMethod.rawValue`); unknown tokens in `otherMethods`.
    public var requests = [Int](repeating: 0, count: SIPMethod.allCases.count)
    public var otherMethods: [String: Int] = [:]
    /// SIP responses per status code (100–699; anything else counts under 0).
    public var responses = [Int](repeating: 0, count: 700)
    public var decisions = DecisionCounts()
    /// Packets and drops per source address, for the top sources, in a table of fixed size: a capture
    /// with more sources than it holds keeps the busiest (a newcomer takes the place of the entry with
    /// the fewest packets among those it could take), so memory stays bounded and the busiest stay.
    var sources = BoundedTable<IPAddress, SourceCount>(
        capacity: ReplaySummary.sourceCapacity, emptyValue: SourceCount(),
        seed: TableSeeding.fixed(0x70_5043_4F55_4E54).seed(0))
    public var first: Timestamp?
    public var last: Timestamp?

    /// Sources counted one by one.
    public static let sourceCapacity = 65_536

    public init() {}

    /// One source's packets, and how many of them were dropped.
    public struct SourceCount: Sendable, Equatable {
        public var packets = 0
        public var drops = 0

        mutating func count(_ decision: Decision) {
            packets += 1
            if decision.drops { drops += 1 }
        }
    }

    public var verdicts: [Decision.Verdict: Int] { decisions.byVerdict }
    public var reasons: [Decision.Reason: Int] { decisions.byReason }

    public mutating func observe(_ message: SIPMessage, in payload: UnsafeRawBufferPointer) {
        switch message.kind {
        case .request: count(request: message.method, token: payload.string(message.methodToken))
        case .response: count(response: message.status)
        case .unknown: break
        }
    }

    public mutating func reassembled() { reassembledDatagrams += 1 }

    mutating func count(request method: SIPMethod, token: @autoclosure () -> String) {
        if method == .unknown {
            otherMethods[token(), default: 0] += 1
        } else {
            requests[Int(method.rawValue)] += 1
        }
    }

    mutating func count(response status: UInt16) {
        responses[status < 700 ? Int(status) : 0] += 1
    }

    mutating func count(_ decision: Decision, source: IPAddress?) {
        decisions.count(decision)
        if let source, let slot = sources.findOrInsert(source, SourceCount(), retention: { Int64($0.packets) }) {
            sources.values[slot].count(decision)
        }
    }

    /// The packets and drops of `source`, if it is among the sources counted.
    public func count(of source: IPAddress) -> SourceCount? { sources.find(source).map { sources.values[$0] } }

    /// Requests by method token (known methods by name), only those seen.
    public var requestsByMethod: [String: Int] {
        var result = otherMethods
        for method in SIPMethod.allCases where requests[Int(method.rawValue)] > 0 {
            result[method.description] = requests[Int(method.rawValue)]
        }
        return result
    }

    /// Responses by status code, only those seen.
    public var responsesByStatus: [Int: Int] {
        Dictionary(
            uniqueKeysWithValues: responses.enumerated().filter { $0.element > 0 }.map { ($0.offset, $0.element) })
    }

    public var requestCount: Int { requests.reduce(0, +) + otherMethods.values.reduce(0, +) }
    public var responseCount: Int { responses.reduce(0, +) }

    /// The sources with the most packets (ties by address), at most `limit`.
    public func topSources(_ limit: Int = 10) -> [(address: IPAddress, packets: Int, drops: Int)] {
        sources.entries.map { (address: $0.key, packets: $0.value.packets, drops: $0.value.drops) }
            .sorted { ($1.packets, $0.address) < ($0.packets, $1.address) }
            .prefix(limit).map { $0 }
    }

    /// The summary as one JSON object (what `sipwarden replay --json` prints), with the engine's bans
    /// and detector counts.
    public func json(bans: [BanRecord] = [], counters: EngineCounters = EngineCounters()) -> JSONValue {
        func counts<Key>(_ pairs: [Key: Int], _ name: (Key) -> String) -> JSONValue {
            .object(pairs.map { (name($0.key), JSONValue.int($0.value)) }.sorted { $0.0 < $1.0 })
        }
        return .object([
            ("packets", .int(packets)),
            ("undecodable", .int(undecodable)),
            ("reassembled_datagrams", .int(reassembledDatagrams)),
            ("first", first.map { .string($0.description) } ?? .null),
            ("last", last.map { .string($0.description) } ?? .null),
            (
                "sip",
                .object([
                    ("requests", .int(requestCount)), ("responses", .int(responseCount)),
                    ("requests_by_method", counts(requestsByMethod) { $0 }),
                    ("responses_by_status", counts(responsesByStatus) { String($0) }),
                ])
            ),
            ("verdicts", counts(verdicts) { $0.rawValue }),
            ("reasons", counts(reasons) { $0.rawValue }),
            ("detectors", counts(counters.detectors) { $0.rawValue }),
            ("weak_digest", .int(counters.weakDigest)),
            (
                "bans",
                .array(
                    bans.map {
                        .object([
                            ("time", .string($0.time.description)), ("source", .string($0.target.description)),
                            ("reason", .string($0.reason.rawValue)), ("ttl", .string(RuleDuration.text($0.ttl))),
                            ("score", .int(Int($0.score.rounded()))),
                        ])
                    })
            ),
            (
                "top_sources",
                .array(
                    topSources().map {
                        .object([
                            ("source", .string($0.address.description)), ("packets", .int($0.packets)),
                            ("drops", .int($0.drops)),
                        ])
                    })
            ),
        ])
    }
}
