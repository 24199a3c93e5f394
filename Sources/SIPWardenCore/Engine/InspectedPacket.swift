/// One SIP message as the engine sees it: the packet it came in, what the classifier read, and its bytes.
///
/// `bytes` is valid only for the duration of `Engine.decide`; the engine keeps no reference to it.
public struct InspectedPacket {
    public var packet: DecodedPacket
    public var message: SIPMessage
    public var bytes: UnsafeRawBufferPointer

    public init(packet: DecodedPacket, message: SIPMessage, bytes: UnsafeRawBufferPointer) {
        self.packet = packet
        self.message = message
        self.bytes = bytes
    }
}
