/// An address block in CIDR notation (`192.0.2.0/24`, `2001:db8::/32`); a bare address is a /32 or /128.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let length: Int

    /// Parses CIDR text; nil when the address or the length is invalid. Host bits are cleared.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        let maximum = address.family == .v4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value), !parts[1].hasPrefix("+") else { return nil }
            length = value
        }
        self.init(address: address, length: length)
    }

    public init(address: IPAddress, length: Int) {
        self.length = length
        self.address = IPPrefix.masked(address, to: length)
    }

    /// The block of `address` alone: a /32, or a /128.
    public init(host address: IPAddress) {
        self.init(address: address, length: address.family == .v4 ? 32 : 128)
    }

    /// A block of IPv4 addresses written as IPv6 (`::ffff:10.0.0.0/104`) as the IPv4 block it is; any
    /// other block as it is.
    public var unmappingIPv4: IPPrefix {
        let v4 = address.unmappingIPv4
        return v4.family == .v4 && address.family == .v6 && length >= 96
            ? IPPrefix(address: v4, length: length - 96) : self
    }

    /// Whether `candidate` lies inside this block.
    public func contains(_ candidate: IPAddress) -> Bool {
        candidate.family == address.family && IPPrefix.masked(candidate, to: length) == address
    }

    /// Whether every address of `other` lies inside this block.
    public func covers(_ other: IPPrefix) -> Bool { length <= other.length && contains(other.address) }

    /// Whether `blocks` together hold every address of this block (10.0.0.0/9 and 10.128.0.0/9 hold
    /// 10.0.0.0/8): one covers it, or each half is held by the blocks inside it.
    public func isCovered(by blocks: [IPPrefix]) -> Bool {
        if blocks.contains(where: { $0.covers(self) }) { return true }
        let inside = blocks.filter { covers($0) }
        guard !inside.isEmpty else { return false }
        let lower = IPPrefix(address: address, length: length + 1)
        let upper: IPAddress
        switch address.family {
        case .v4: upper = IPAddress(v4: address.v4Value | 1 << (31 - length))
        case .v6 where length < 64: upper = IPAddress(v6: address.high | 1 << (63 - length), address.low)
        case .v6: upper = IPAddress(v6: address.high, address.low | 1 << (127 - length))
        }
        return lower.isCovered(by: inside) && IPPrefix(address: upper, length: length + 1).isCovered(by: inside)
    }

    public var description: String { "\(address)/\(length)" }

    /// `address` with every bit after the first `length` cleared.
    public static func masked(_ address: IPAddress, to length: Int) -> IPAddress {
        switch address.family {
        case .v4:
            let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
            return IPAddress(v4: address.v4Value & mask)
        case .v6:
            let highMask: UInt64 = length == 0 ? 0 : length >= 64 ? ~0 : ~UInt64(0) << (64 - length)
            let lowMask: UInt64 = length <= 64 ? 0 : length == 128 ? ~0 : ~UInt64(0) << (128 - length)
            return IPAddress(v6: address.high & highMask, address.low & lowMask)
        }
    }
}
