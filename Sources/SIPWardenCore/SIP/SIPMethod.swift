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
        // A name (3 to 9 letters) is compared as its first and last word, which overlap, instead of letter by
        // letter; ignoring case, the case bit is set in every byte of both sides (the name's are all letters).
        @inline(__always) func matches(_ name: StaticString) -> Bool {
            let length = name.utf8CodeUnitCount
            guard end &- start == length else { return false }
            @inline(__always) func ends<Word: FixedWidthInteger & UnsignedInteger>(_: Word.Type) -> Bool {
                let caseBits = ignoringCase ? Word(truncatingIfNeeded: 0x2020_2020_2020_2020 as UInt64) : 0
                @inline(__always) func word(_ base: UnsafeRawPointer, _ offset: Int) -> Word {
                    base.loadUnaligned(fromByteOffset: offset, as: Word.self) | caseBits
                }
                let (actual, expected) = (UnsafeRawPointer(p + start), UnsafeRawPointer(name.utf8Start))
                let last = length &- MemoryLayout<Word>.size
                return word(actual, 0) == word(expected, 0) && word(actual, last) == word(expected, last)
            }
            switch length {
            case ..<4: return ends(UInt16.self)
            case ..<8: return ends(UInt32.self)
            default: return ends(UInt64.self)
            }
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
