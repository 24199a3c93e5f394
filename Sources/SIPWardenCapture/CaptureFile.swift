import CPcap
import SIPWardenCore

/// Why a capture could not be read; the message names the file.
public enum CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(file: String, reason: String)
    /// `linkType` in libpcap's numbering (DLT_), with libpcap's name and description of it when it has them.
    case unsupportedLinkType(file: String, linkType: Int32, name: String?)
    case corrupt(file: String, reason: String)

    public var description: String {
        switch self {
        case .cannotOpen(let file, let reason): return "\(file): cannot read capture: \(reason)"
        case .unsupportedLinkType(let file, let linkType, let name):
            return "\(file): unsupported link type \(name.map { "\($0), " } ?? "")DLT \(linkType) "
                + "(supported: Ethernet, Linux cooked v1/v2, raw IP, loopback)"
        case .corrupt(let file, let reason): return "\(file): corrupt capture: \(reason)"
        }
    }
}

/// A pcap or pcapng file opened through libpcap, read frame by frame without copying.
///
/// Owns its `pcap_t` and closes it exactly once. The corresponding C functions are
/// `pcap_open_offline_with_tstamp_precision`, `pcap_next_ex` and `pcap_close`.
public final class CaptureFile {
    public let path: String
    public let linkType: LinkType
    private let handle: OpaquePointer

    public init(path: String) throws(CaptureError) {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard
            let handle = pcap_open_offline_with_tstamp_precision(path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errorBuffer)
        else {
            let reason = Self.text(errorBuffer)
            throw .cannotOpen(
                file: path, reason: reason.hasPrefix("\(path): ") ? String(reason.dropFirst(path.count + 2)) : reason)
        }
        let dlt = pcap_datalink(handle)
        guard let linkType = LinkType(rawValue: dlt) else {
            pcap_close(handle)
            throw .unsupportedLinkType(file: path, linkType: dlt, name: Self.linkTypeName(dlt))
        }
        self.path = path
        self.linkType = linkType
        self.handle = handle
    }

    deinit {
        pcap_close(handle)
    }

    /// Calls `body` with each frame's timestamp and bytes, in capture order.
    /// The bytes are valid only during the call.
    public func forEachFrame(_ body: (Timestamp, UnsafeRawBufferPointer) -> Void) throws(CaptureError) {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while true {
            switch pcap_next_ex(handle, &header, &data) {
            case 1:
                guard let header, let data else { continue }
                // With nanosecond precision, libpcap stores nanoseconds in tv_usec.
                let (seconds, tooLate) = Int64(header.pointee.ts.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
                let (nanoseconds, past) = seconds.addingReportingOverflow(Int64(header.pointee.ts.tv_usec))
                guard !tooLate, !past, nanoseconds >= 0 else {
                    throw .corrupt(file: path, reason: "a packet's timestamp lies before 1970 or after 2262")
                }
                body(
                    Timestamp(nanoseconds: nanoseconds),
                    UnsafeRawBufferPointer(start: data, count: Int(header.pointee.caplen)))
            case PCAP_ERROR_BREAK:
                return
            default:
                throw .corrupt(file: path, reason: String(cString: pcap_geterr(handle)))
            }
        }
    }

    /// libpcap's name of a link type, as tcpdump and tshark show it: "IEEE802_11_RADIO (802.11 plus
    /// radiotap header)"; nil for a number libpcap does not know.
    static func linkTypeName(_ dlt: Int32) -> String? {
        guard let name = pcap_datalink_val_to_name(dlt) else { return nil }
        let description = pcap_datalink_val_to_description(dlt).map { " (\(String(cString: $0)))" } ?? ""
        return String(cString: name) + description
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
