import SIPWardenCore

/// A message classified together with its bytes, so tests can read fields as text.
struct Classified {
    let bytes: [UInt8]
    let message: SIPMessage

    init(_ bytes: [UInt8], limits: ClassifierLimits = .standard) {
        self.bytes = bytes
        message = bytes.withUnsafeBytes { SIPClassifier(limits: limits).classify($0) }
    }

    init(_ text: String) { self.init([UInt8](text)) }

    func text(_ range: ByteRange) -> String { bytes.withUnsafeBytes { $0.string(range) } }

    var method: String { text(message.methodToken) }
    var anomalyNames: [String] { message.anomalies.names }
}
