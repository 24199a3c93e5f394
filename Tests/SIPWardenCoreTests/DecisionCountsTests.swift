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
        #expect(summary.sources == [source: ReplaySummary.SourceCount(packets: 2, drops: 1)])
    }
}
