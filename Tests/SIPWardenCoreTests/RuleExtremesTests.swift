import Foundation
import Testing

@testable import SIPWardenCore

/// Every key of the shipped rule file set to an extreme value, one at a time: the rules are refused
/// with an error, or they work, down to the token buckets, the firewall and the numbers `check`
/// prints. Never a trap: "1e300/s", "1e300s" and a rate over ~82,600/s each used to stop a process.
@Suite struct RuleExtremesTests {
    static let extremes = [
        "1e300", "-1e300", "0", "-1", "0.5", "9223372036854775807", "-9223372036854775808", "1e-300", "nan", "inf",
        "\"1e300/s\"", "\"1e-300/s\"", "\"99999999999999999999/h\"", "\"1e300s\"", "\"1e-300ms\"", "\"\"", "[]",
        "[\"1e300/s\"]", "true",
    ]

    @Test func everyKeyWithAnExtremeValueIsAnErrorOrWorks() throws {
        let lines = try String(contentsOf: RuleSetTests.shipped, encoding: .utf8).components(separatedBy: "\n")
        var (refused, worked) = (0, 0)
        for (index, line) in lines.enumerated() {
            guard let key = Self.key(of: line) else { continue }
            for value in Self.extremes {
                var changed = lines
                changed[index] = "\(key) = \(value)"
                guard let rules = try? RuleSet(toml: changed.joined(separator: "\n"), file: "extreme.toml") else {
                    refused += 1
                    continue
                }
                worked += 1
                Self.exercise(rules)
            }
        }
        // Most extremes are refused; some are taken (a huge rate is a rule's "unlimited").
        #expect(refused > 1000 && worked > 100, "refused \(refused), worked \(worked)")
    }

    /// The key a `key = value` line sets, nil for anything else (comments, tables, an array's rest).
    static func key(of line: String) -> String? {
        let parts = line.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let first = line.first, first.isLetter else { return nil }
        return parts[0].trimmingCharacters(in: .whitespaces)
    }

    /// What the rules feed: every rate into a bucket over a capture's years, its printed form and its
    /// firewall form; every duration's printed form; the firewall of every role in every format; the
    /// tables' memory.
    static func exercise(_ rules: RuleSet) {
        visit(rules) { value in
            if let rate = value as? Rate {
                var bucket = TokenBucket(rate, at: Timestamp(nanoseconds: 0))
                _ = bucket.take(rate: rate, at: Timestamp(nanoseconds: 1_700_000_000_000_000_000))
                _ = (rate.description, rate.firewallCount, rate.firewallBurst)
            }
        }
        _ = RuleDuration.text(rules.bans.prefixWindow)
        for role in RuleSet.Firewall.Role.allCases {
            guard let ruleset = try? FirewallRuleset(rules: rules, role: role) else { continue }
            for format in FirewallFormat.allCases { _ = format.render(ruleset) }
        }
        _ = Engine.tableBytes(rules, queues: rules.daemon.queues.count)
    }

    /// Calls `body` with `value` and everything stored in it, however deep.
    static func visit(_ value: Any, _ body: (Any) -> Void) {
        body(value)
        for child in Mirror(reflecting: value).children { visit(child.value, body) }
    }
}
