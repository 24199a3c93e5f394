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

    /// 10,000 random byte-level mutations of the shipped file's rules (bytes changed, cut, repeated; a table
    /// header or a key line copied elsewhere): each is read, or refused with errors that name the file,
    /// syntax errors at a line and column inside it. Never a trap.
    @Test func mutatedRuleFilesAreReadOrRefusedWithTheirLocation() throws {
        // Its comments left out: mutations go to its tables, keys and values.
        let text = try String(contentsOf: RuleSetTests.shipped, encoding: .utf8)
        let shipped = Array(
            text.split(separator: "\n").filter { !$0.drop { $0 == " " }.hasPrefix("#") }.joined(separator: "\n").utf8)
        var random = SplitMix64(state: 20261207)
        let interesting = Array("=[]{}\"'#.,\n\\ -+0x_:".utf8) + [0, 0x7F, 0xC3, 0xFF]
        let defaults = RuleSet()
        var (refused, read) = (0, 0)
        for _ in 0..<10_000 {
            var bytes = shipped
            for _ in 0...random.below(3) {
                random.mutate(&bytes, interesting: interesting, span: 64) { bytes, at, random in
                    let line = bytes[at...].prefix { $0 != 0x0A } + [0x0A]
                    bytes.insert(contentsOf: line, at: random.below(bytes.count))
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            do {
                let rules = try RuleSet(toml: text, file: "mutated.toml")
                if rules != defaults { Self.exercise(rules) }
                read += 1
            } catch {
                refused += 1
                #expect(!error.errors.isEmpty)
                for problem in error.errors {
                    #expect(problem.description.hasPrefix("mutated.toml:"), "\(problem)")
                    if case .syntax(_, let line, let column, _) = problem {
                        #expect((1...lines).contains(line) && column >= 1, "\(problem) in \(lines) lines")
                    }
                }
            }
        }
        // Most break the file; hundreds leave rules that are read (and exercised when they changed).
        #expect(refused > 5000 && read > 500, "refused \(refused), read \(read)")
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
