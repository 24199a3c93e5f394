/// A SIP request method. Methods are case-sensitive: only the exact upper-case names are known ones;
/// anything else is `.unknown` and the message keeps the token as sent (the classifier reads a known name
/// in another case as that method, and flags it).
public enum SIPMethod: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case none
    case invite, ack, bye, cancel, register, options, prack, subscribe, notify, publish
    case info, refer, message, update
    case unknown

    public var description: String {
        switch self {
        case .none: return ""
        case .invite: return "INVITE"
        case .ack: return "ACK"
        case .bye: return "BYE"
        case .cancel: return "CANCEL"
        case .register: return "REGISTER"
        case .options: return "OPTIONS"
        case .prack: return "PRACK"
        case .subscribe: return "SUBSCRIBE"
        case .notify: return "NOTIFY"
        case .publish: return "PUBLISH"
        case .info: return "INFO"
        case .refer: return "REFER"
        case .message: return "MESSAGE"
        case .update: return "UPDATE"
        case .unknown: return "unknown"
        }
    }

    /// Recognises a method token: case-sensitive, as RFC 3261 §7.1 requires, or `ignoringCase` for a known
    /// method written in another case ("invite"), which PJSIP, Kamailio and OpenSIPS act on as the method
    /// it names.
    @inline(__always)
    static func recognise(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, ignoringCase: Bool = false)
        -> SIPMethod
    {
        @inline(__always) func fold(_ byte: UInt8) -> UInt8 { ignoringCase ? ByteClass.lower(byte) &- 0x20 : byte }
        @inline(__always) func matches(_ name: StaticString) -> Bool {
            guard end &- start == name.utf8CodeUnitCount else { return false }
            let expected = name.utf8Start
            for k in 0..<(end &- start) where fold(p[start &+ k]) != expected[k] { return false }
            return true
        }
        guard end > start else { return .none }
        switch fold(p[start]) {
        case UInt8(ascii: "I"):
            return matches("INVITE") ? .invite : matches("INFO") ? .info : .unknown
        case UInt8(ascii: "A"): return matches("ACK") ? .ack : .unknown
        case UInt8(ascii: "B"): return matches("BYE") ? .bye : .unknown
        case UInt8(ascii: "C"): return matches("CANCEL") ? .cancel : .unknown
        case UInt8(ascii: "R"):
            return matches("REGISTER") ? .register : matches("REFER") ? .refer : .unknown
        case UInt8(ascii: "O"): return matches("OPTIONS") ? .options : .unknown
        case UInt8(ascii: "P"):
            return matches("PRACK") ? .prack : matches("PUBLISH") ? .publish : .unknown
        case UInt8(ascii: "S"): return matches("SUBSCRIBE") ? .subscribe : .unknown
        case UInt8(ascii: "N"): return matches("NOTIFY") ? .notify : .unknown
        case UInt8(ascii: "M"): return matches("MESSAGE") ? .message : .unknown
        case UInt8(ascii: "U"): return matches("UPDATE") ? .update : .unknown
        default: return .unknown
        }
    }
}
