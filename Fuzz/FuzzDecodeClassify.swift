// A libFuzzer target over packet decoding and SIP classification. It is compiled into the
// SIPWardenCore module itself (see scripts/fuzz), so it has no import: only the Bytes/, Packet/ and
// SIP/ folders go in, which need no package dependency.

/// What the bytes after the first one are, chosen by the first byte.
///
/// | first byte & 0x7F, modulo `FuzzMode.count` | the rest is                                          |
/// |---------------------------------------------|------------------------------------------------------|
/// | 0                                           | a SIP message, classified as is                      |
/// | 1                                           | a bare IP packet (as NFQUEUE delivers it)            |
/// | 2                                           | a reassembled datagram: an IP protocol byte, then the transport header and data |
/// | 3 + i                                       | a captured frame of `LinkType.allCases[i]` (4 is Ethernet) |
///
/// Bit 0x80 of the first byte classifies with tight `ClassifierLimits`, so short inputs reach the
/// oversize paths too. Decoded packets have their payload classified.
enum FuzzMode {
    case classify
    case ipPacket
    case reassembledDatagram
    case frame(LinkType)

    static let linkTypes = LinkType.allCases
    static var count: Int { 3 + linkTypes.count }

    init(selector: UInt8) {
        switch Int(selector & 0x7F) % FuzzMode.count {
        case 0: self = .classify
        case 1: self = .ipPacket
        case 2: self = .reassembledDatagram
        case let index: self = .frame(FuzzMode.linkTypes[index - 3])
        }
    }
}

/// Called by libFuzzer once before any input: checks that the range checks below still cover every
/// `ByteRange` in `SIPMessage`, so a field added later is not silently left unchecked.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    var checked: [String] = []
    forEachRange(in: SIPMessage()) { _, path in checked.append(path()) }
    let declared = byteRangePaths(of: SIPMessage())
    guard Set(checked) == Set(declared), checked.count == declared.count else {
        fatalError(
            "fuzz: the range checks have drifted from SIPMessage; unchecked: "
                + "\(Set(declared).subtracting(checked).sorted()), unknown: \(Set(checked).subtracting(declared).sorted())"
        )
    }
    return 0
}

/// The libFuzzer entry point: one input, any bytes. Traps when a decoder or the classifier traps, or
/// when a range it returns does not lie inside the buffer it indexes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let classifier = SIPClassifier(limits: data[0] & 0x80 != 0 ? tightLimits : .standard)
    // The rest ends where libFuzzer's exactly-sized allocation ends, so AddressSanitizer sees any read past it.
    let rest = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    switch FuzzMode(selector: data[0]) {
    case .classify:
        classifyAndCheck(rest, with: classifier)
    case .ipPacket:
        checkDecoded(PacketDecoder.decode(ipPacket: rest), in: rest, with: classifier)
    case .reassembledDatagram:
        guard let ipProtocol = rest.first else { return 0 }
        let datagram = UnsafeRawBufferPointer(rebasing: rest[1...])
        let result = PacketDecoder.decodeTransport(
            datagram, protocol: ipProtocol, source: IPAddress(v4: 0xC000_0201), destination: IPAddress(v4: 0xC000_0202))
        checkDecoded(result, in: datagram, with: classifier)
    case .frame(let linkType):
        checkDecoded(PacketDecoder.decode(frame: rest, linkType: linkType), in: rest, with: classifier)
    }
    return 0
}

/// Checks a decoded packet's ranges against `bytes`, then classifies its payload.
func checkDecoded(
    _ result: Result<DecodedPacket, DecodeError>, in bytes: UnsafeRawBufferPointer, with classifier: SIPClassifier
) {
    guard case .success(let packet) = result else { return }
    checkInside(packet.payload, count: bytes.count, "DecodedPacket.payload")
    checkInside(packet.ipPayload, count: bytes.count, "DecodedPacket.ipPayload")
    // A copy of exactly the payload's size: a read past the payload, into padding or the next
    // header, then trips AddressSanitizer instead of going unnoticed inside the frame.
    let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: packet.payload.count, alignment: 1)
    defer { payload.deallocate() }
    payload.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[packet.payload]))
    classifyAndCheck(UnsafeRawBufferPointer(payload), with: classifier)
}

func checkInside(_ range: Range<Int>, count: Int, _ name: StaticString) {
    if range.lowerBound < 0 || range.upperBound > count {
        fatalError("fuzz: \(name) \(range) lies outside the \(count)-byte buffer")
    }
}

/// Classifies `bytes` and checks every range of the result, then reads a few of them as text.
func classifyAndCheck(_ bytes: UnsafeRawBufferPointer, with classifier: SIPClassifier) {
    let message = classifier.classify(bytes)
    forEachRange(in: message) { range, path in
        if range.lowerBound > range.upperBound || Int(range.upperBound) > bytes.count {
            fatalError(
                "fuzz: SIPMessage.\(path()) \(range.lowerBound)..<\(range.upperBound) lies outside the \(bytes.count)-byte buffer"
            )
        }
    }
    if Int(message.end) > bytes.count {
        fatalError("fuzz: SIPMessage.end \(message.end) lies past the \(bytes.count)-byte buffer")
    }

    for range in [message.methodToken, message.requestURI.whole, message.callID, message.via.branch, message.body] {
        let text = bytes.string(range)
        // String(decoding:) repairs bad UTF-8 but never drops bytes to nothing.
        if !range.isEmpty && text.isEmpty {
            fatalError("fuzz: string(\(range.lowerBound)..<\(range.upperBound)) is empty for a non-empty range")
        }
    }
    _ = bytes.bytes(message.from.tag, equal: message.to.tag)
    _ = bytes.bytes(message.cseq.methodToken, equal: message.methodToken)
    _ = bytes.bytes(message.via.transport, equal: "UDP")
}

/// Calls `body` with every `ByteRange` in `message` and a closure that names its path (made only when asked).
func forEachRange(in message: SIPMessage, _ body: (ByteRange, () -> String) -> Void) {
    func uri(_ uri: SIPURI, _ prefix: String) {
        body(uri.whole) { prefix + ".whole" }
        body(uri.scheme) { prefix + ".scheme" }
        body(uri.user) { prefix + ".user" }
        body(uri.host) { prefix + ".host" }
    }
    func nameAddress(_ value: NameAddress, _ prefix: String) {
        body(value.displayName) { prefix + ".displayName" }
        uri(value.uri, prefix + ".uri")
        body(value.tag) { prefix + ".tag" }
    }
    func digest(_ fields: DigestFields, _ prefix: String) {
        body(fields.scheme) { prefix + ".scheme" }
        body(fields.username) { prefix + ".username" }
        body(fields.realm) { prefix + ".realm" }
        body(fields.nonce) { prefix + ".nonce" }
        body(fields.uri) { prefix + ".uri" }
        body(fields.response) { prefix + ".response" }
        body(fields.qop) { prefix + ".qop" }
        body(fields.nc) { prefix + ".nc" }
        body(fields.cnonce) { prefix + ".cnonce" }
        body(fields.algorithm) { prefix + ".algorithm" }
        body(fields.opaque) { prefix + ".opaque" }
        body(fields.rivalUsername) { prefix + ".rivalUsername" }
    }
    body(message.methodToken) { "methodToken" }
    uri(message.requestURI, "requestURI")
    body(message.reason) { "reason" }
    body(message.via.transport) { "via.transport" }
    body(message.via.sentBy) { "via.sentBy" }
    body(message.via.host) { "via.host" }
    body(message.via.branch) { "via.branch" }
    body(message.via.received) { "via.received" }
    nameAddress(message.from, "from")
    nameAddress(message.to, "to")
    body(message.callID) { "callID" }
    body(message.cseq.methodToken) { "cseq.methodToken" }
    nameAddress(message.contact, "contact")
    nameAddress(message.referTo, "referTo")
    body(message.userAgent) { "userAgent" }
    body(message.contentType) { "contentType" }
    digest(message.authorization, "authorization")
    digest(message.challenge, "challenge")
    body(message.body) { "body" }
}

/// The dotted path of every `ByteRange` stored in `value`, found by reflection (slow; used once).
func byteRangePaths(of value: Any, prefix: String = "") -> [String] {
    Mirror(reflecting: value).children.flatMap { child -> [String] in
        let path = prefix.isEmpty ? child.label ?? "?" : prefix + "." + (child.label ?? "?")
        return child.value is ByteRange ? [path] : byteRangePaths(of: child.value, prefix: path)
    }
}
