#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a capture could not be written; the message names the file and the system's reason.
public enum PcapWriterError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(file: String, errno: Int32)
    case cannotWrite(file: String, errno: Int32)

    public var description: String {
        switch self {
        case .cannotOpen(let file, let code): return "\(file): cannot create: \(String(cString: strerror(code)))"
        case .cannotWrite(let file, let code): return "\(file): cannot write: \(String(cString: strerror(code)))"
        }
    }
}

/// Writes a classic pcap file (microsecond timestamps, little-endian, LINKTYPE_ETHERNET).
///
/// Owns its `FILE *` and closes it exactly once. The corresponding C functions are `fopen`, `fwrite`, `fclose`.
public final class PcapWriter {
    public let path: String
    private var file: UnsafeMutablePointer<FILE>?

    /// Creates (or truncates) the file and writes the 24-byte global header.
    public init(path: String, snapshotLength: UInt32 = 65535, linkType: UInt32 = 1) throws(PcapWriterError) {
        self.path = path
        guard let file = fopen(path, "wb") else { throw .cannotOpen(file: path, errno: errno) }
        self.file = file
        var header: [UInt8] = []
        Self.appendLittleEndian(0xA1B2_C3D4, to: &header)  // magic: microsecond timestamps
        header += [2, 0, 4, 0]  // version 2.4
        Self.appendLittleEndian(0, to: &header)  // thiszone
        Self.appendLittleEndian(0, to: &header)  // sigfigs
        Self.appendLittleEndian(snapshotLength, to: &header)
        Self.appendLittleEndian(linkType, to: &header)
        try write(header)
    }

    deinit {
        if let file { fclose(file) }
    }

    /// Appends one record: a 16-byte header (seconds, microseconds, lengths) and the frame.
    public func write(frame: [UInt8], timestamp nanoseconds: Int64) throws(PcapWriterError) {
        var record: [UInt8] = []
        record.reserveCapacity(16 + frame.count)
        Self.appendLittleEndian(UInt32(truncatingIfNeeded: nanoseconds / 1_000_000_000), to: &record)
        Self.appendLittleEndian(UInt32(truncatingIfNeeded: nanoseconds % 1_000_000_000 / 1000), to: &record)
        Self.appendLittleEndian(UInt32(frame.count), to: &record)
        Self.appendLittleEndian(UInt32(frame.count), to: &record)
        record += frame
        try write(record)
    }

    /// Flushes and closes the file, reporting a failed flush.
    public func close() throws(PcapWriterError) {
        guard let file else { return }
        self.file = nil
        if fclose(file) != 0 { throw .cannotWrite(file: path, errno: errno) }
    }

    private func write(_ bytes: [UInt8]) throws(PcapWriterError) {
        guard let file else { throw .cannotWrite(file: path, errno: EBADF) }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        if written != bytes.count { throw .cannotWrite(file: path, errno: errno) }
    }

    static func appendLittleEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }
}
