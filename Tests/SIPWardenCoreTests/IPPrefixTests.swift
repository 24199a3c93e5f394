import Testing

@testable import SIPWardenCore

@Suite struct IPPrefixTests {
    @Test(arguments: [
        ("192.0.2.0/24", "192.0.2.200", true), ("192.0.2.0/24", "192.0.3.1", false),
        ("192.0.2.77", "192.0.2.77", true), ("192.0.2.77", "192.0.2.78", false),
        ("2001:db8::/32", "2001:db8:ffff::1", true), ("2001:db8::/32", "2001:db9::1", false),
        ("2001:db8:1:2::/64", "2001:db8:1:2:aaaa::1", true), ("2001:db8:1:2::/64", "2001:db8:1:3::1", false),
        ("0.0.0.0/0", "203.0.113.1", true), ("0.0.0.0/0", "2001:db8::1", false),
        ("2001:db8::1/128", "2001:db8::1", true), ("10.1.2.3/8", "10.200.0.1", true),
    ])
    func containment(prefix: String, address: String, inside: Bool) throws {
        let block = try #require(IPPrefix(prefix))
        #expect(block.contains(try #require(IPAddress(address))) == inside)
    }

    @Test(arguments: [
        "192.0.2.0/33", "192.0.2/24", "2001:db8::/129", "hello", "192.0.2.0/-1", "192.0.2.0/+8", "",
        "10.79.0.66\u{0}junk", "10.79.0.66\u{0}",
    ])
    func invalidBlocks(text: String) {
        #expect(IPPrefix(text) == nil)
    }

    @Test func hostBitsAreClearedAndPrinted() throws {
        #expect(try #require(IPPrefix("10.1.2.3/8")).description == "10.0.0.0/8")
        #expect(try #require(IPPrefix("2001:db8::ffff/64")).description == "2001:db8::/64")
        #expect(IPAddress("::ffff:192.0.2.1")?.family == .v6)
    }

    /// Blocks cover a block alone or together, never with a gap, in either family.
    @Test func blocksCoverABlockTogether() {
        func covered(_ block: String, _ blocks: [String]) -> Bool {
            IPPrefix(block)!.isCovered(by: blocks.map { IPPrefix($0)! })
        }
        #expect(covered("10.0.0.0/8", ["10.0.0.0/9", "10.128.0.0/9"]))
        #expect(covered("10.0.0.0/8", ["0.0.0.0/0"]))
        #expect(!covered("10.0.0.0/8", ["10.0.0.0/9", "10.128.0.0/10"]))
        #expect(!covered("10.0.0.0/8", ["10.0.0.0/9", "11.0.0.0/9"]))
        #expect(covered("192.0.2.0/30", ["192.0.2.0", "192.0.2.1", "192.0.2.2/31"]))
        #expect(!covered("192.0.2.0/30", ["192.0.2.0", "192.0.2.1", "192.0.2.2"]))
        #expect(covered("192.0.2.7", ["192.0.2.7"]))
        #expect(!covered("192.0.2.7", []))
        #expect(covered("2001:db8::/32", ["2001:db8::/33", "2001:db8:8000::/33"]))
        #expect(covered("2001:db8::/63", ["2001:db8::/64", "2001:db8:0:1::/64"]))
        #expect(covered("2001:db8::/127", ["2001:db8::", "2001:db8::1"]))
        #expect(!covered("2001:db8::/127", ["2001:db8::", "10.0.0.1"]))
        #expect(!covered("::/0", ["0.0.0.0/0"]))
    }

    /// IPv4 written as IPv6 (`::ffff:…`) is the IPv4 address or block it stands for; nothing else changes.
    @Test func mappedIPv4IsReadAsIPv4() throws {
        #expect(IPAddress("::ffff:192.0.2.1")?.unmappingIPv4 == IPAddress("192.0.2.1"))
        #expect(IPAddress("::fffe:192.0.2.1")?.unmappingIPv4 == IPAddress("::fffe:192.0.2.1"))
        #expect(IPAddress("2001:db8::1")?.unmappingIPv4 == IPAddress("2001:db8::1"))
        #expect(IPAddress("192.0.2.1")?.unmappingIPv4 == IPAddress("192.0.2.1"))
        #expect(IPPrefix("::ffff:10.90.0.1")?.unmappingIPv4 == IPPrefix("10.90.0.1/32"))
        #expect(IPPrefix("::ffff:10.0.0.0/104")?.unmappingIPv4 == IPPrefix("10.0.0.0/8"))
        #expect(IPPrefix("::ffff:0:0/95")?.unmappingIPv4 == IPPrefix("::ffff:0:0/95"))
        #expect(IPPrefix("::/0")?.unmappingIPv4 == IPPrefix("::/0"))
    }
}
