/// The link-layer framing of captured frames, by libpcap's DLT number.
public enum LinkType: Int32, Sendable, CaseIterable {
    /// BSD loopback: a 4-byte address family in host byte order.
    case null = 0
    case ethernet = 1
    /// Raw IP (libpcap maps LINKTYPE_RAW 101 to DLT_RAW 12 on Linux).
    case raw = 12
    case rawAlternate = 14
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    case loop = 108
    case linuxCooked = 113
    case ipv4 = 228
    case ipv6 = 229
    case linuxCooked2 = 276
}

extension LinkType {
    /// Finds where the IP packet starts in a frame of this link type, or the reason it cannot.
    func networkLayerOffset(in frame: UnsafeRawBufferPointer) -> Result<Int, DecodeError> {
        switch self {
        case .raw, .rawAlternate, .ipv4, .ipv6:
            return .success(0)
        case .null, .loop:
            guard frame.count >= 4 else { return .failure(.truncated(.link)) }
            return .success(4)
        case .linuxCooked:
            guard let protocolType = frame.uint16(at: 14) else { return .failure(.truncated(.link)) }
            return Self.ipEtherType(protocolType, offset: 16)
        case .linuxCooked2:
            guard frame.count >= 20, let protocolType = frame.uint16(at: 0) else {
                return .failure(.truncated(.link))
            }
            return Self.ipEtherType(protocolType, offset: 20)
        case .ethernet:
            var offset = 12
            // 802.1Q, 802.1ad and the old QinQ tag each add 4 bytes before the real EtherType.
            for _ in 0..<4 {
                guard let etherType = frame.uint16(at: offset) else { return .failure(.truncated(.link)) }
                if etherType == 0x8100 || etherType == 0x88A8 || etherType == 0x9100 {
                    offset += 4
                    continue
                }
                return Self.ipEtherType(etherType, offset: offset + 2)
            }
            return .failure(.unsupported(.link))
        }
    }

    private static func ipEtherType(_ etherType: UInt16, offset: Int) -> Result<Int, DecodeError> {
        etherType == 0x0800 || etherType == 0x86DD ? .success(offset) : .failure(.notIP)
    }
}
