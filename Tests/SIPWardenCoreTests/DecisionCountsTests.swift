import Testing

@testable import SIPWardenCore

@Suite struct DecisionCountsTests {
    @Test func positionsFollowTheDeclarationOrder() {
        for (offset, reason) in Decision.Reason.allCases.enumerated() { #expect(reason.position == offset) }
        for (offset, verdict) in Decision.Verdict.allCases.enumerated() { #expect(verdict.rank == offset) }
    }

    @Test func everyVerdictAndReasonHasItsOwnCounter() {
        var counts = DecisionCounts()
        for verdict in Decision.Verdict.allCases {
            for (offset, reason) in Decision.Reason.allCases.enumerated() {
                for _ in 0...offset { counts.count(Decision(verdict, reason)) }
            }
        }
        for verdict in Decision.Verdict.allCases {
            for (offset, reason) in Decision.Reason.allCases.enumerated() {
                #expect(counts.count(verdict, reason) == offset + 1)
            }
        }
        let reasons = Decision.Reason.allCases.count
        #expect(
            counts.byVerdict == [
                .accept: reasons * (reasons + 1) / 2, .drop: reasons * (reasons + 1) / 2,
                .ban: reasons * (reasons + 1) / 2,
            ])
        #expect(counts.byReason[.sip] == 3)
        #expect(counts.byReason[.cleartextKeys] == 3 * reasons)
        #expect(counts.adding(counts).count(.ban, .scanner) == 2 * counts.count(.ban, .scanner))
    }

    @Test func aReplaySummaryCountsVerdictsAndSourcesOncePerPacket() {
        var summary = ReplaySummary()
        let source = IPAddress("192.0.2.7")!
        summary.count(Decision(.accept, .sip), source: source)
        summary.count(Decision(.drop, .rateLimit), source: source)
        summary.count(Decision(.accept, .outbound), source: nil)
        #expect(summary.verdicts == [.accept: 2, .drop: 1])
        #expect(summary.reasons == [.sip: 1, .rateLimit: 1, .outbound: 1])
        #expect(summary.count(of: source) == ReplaySummary.SourceCount(packets: 2, drops: 1))
        #expect(summary.sources.count == 1)
    }

    /// Far more sources than the summary counts one by one: the busiest are kept, with exact counts.
    @Test func summaryKeepsTheBusiestSourcesWhenTheyOverflowItsTable() {
        var summary = ReplaySummary()
        let busy = (1...5).map { IPAddress(v4: 0xC000_0200 + UInt32($0)) }
        for i in 0..<(4 * ReplaySummary.sourceCapacity) {
            summary.count(Decision(.drop, .unknownSourceBudget), source: IPAddress(v4: 0x0A00_0000 + UInt32(i)))
            if i % 1000 == 0 {
                for (rank, address) in busy.enumerated() where i / 1000 % (rank + 1) == 0 {
                    summary.count(Decision(.accept, .sip), source: address)
                }
            }
        }
        #expect(summary.sources.count <= ReplaySummary.sourceCapacity)
        let expected = busy.enumerated().map { rank, address in
            (
                address,
                (0..<(4 * ReplaySummary.sourceCapacity)).filter { $0 % 1000 == 0 && $0 / 1000 % (rank + 1) == 0 }
                    .count
            )
        }
        let top = summary.topSources(5)
        #expect(top.map(\.address) == expected.map(\.0))
        #expect(top.map(\.packets) == expected.map(\.1))
        #expect(top.allSatisfy { $0.drops == 0 })
    }

    /// A steady source that starts once the table is full of one-packet addresses, and sends one packet
    /// for every 5,000 new addresses pushing entries out around it, still keeps an entry and builds up
    /// its count.
    @Test func aSteadySourceArrivingAmidAFloodIsCounted() {
        var summary = ReplaySummary()
        let steady = IPAddress(v4: 0xC000_0263)
        var sent = 0
        for i in 0..<(8 * ReplaySummary.sourceCapacity) {
            summary.count(Decision(.drop, .unknownSourceBudget), source: IPAddress(v4: 0x0A00_0000 + UInt32(i)))
            if i >= ReplaySummary.sourceCapacity, i % 5000 == 0 {
                summary.count(Decision(.accept, .sip), source: steady)
                sent += 1
            }
        }
        let counted = summary.count(of: steady)?.packets ?? 0
        #expect(counted > sent * 9 / 10, "counted \(counted) of \(sent)")
        #expect(summary.topSources(1).first?.address == steady)
    }
}
