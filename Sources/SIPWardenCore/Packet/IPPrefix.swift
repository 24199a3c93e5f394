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
