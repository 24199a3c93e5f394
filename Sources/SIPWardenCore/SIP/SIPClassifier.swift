/// Reads a SIP message in one pass, without allocating: start line, the headers later stages need
/// (long and compact forms, any case, folded lines), the body range, and anomalies as flags.
///
/// It never traps and never throws: any bytes, from empty to 64 KiB of noise, give a `SIPMessage`.
public struct SIPClassifier: Sendable {
    public var limits: ClassifierLimits

    public init(limits: ClassifierLimits = .standard) {
        self.limits = limits
    }

    public func classify(_ bytes: UnsafeRawBufferPointer) -> SIPMessage {
        var message = SIPMessage()
        // One result for every path, filled in place: returning it then copies it once, as a block.
        if let base = bytes.baseAddress, !bytes.isEmpty {
            withUnsafeMutablePointer(to: &message) { result in
                var scanner = MessageScanner(
                    p: base.assumingMemoryBound(to: UInt8.self), count: bytes.count, limits: limits, into: result)
                scanner.scan()
            }
        } else {
            message.anomalies = .notSIP
        }
        return message
    }
}
