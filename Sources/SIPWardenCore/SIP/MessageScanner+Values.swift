/// Readers for the header values the later stages need. Each takes the value's byte range, which may
/// contain folded line breaks; white space includes CR and LF.
extension MessageScanner {
    // MARK: - Simple values

    mutating func callID(_ start: Int, _ end: Int) {
        guard firstOccurrence(.callID) else { return }
        message.callID = text.trimmed(start, end)
        if message.callID.count > limits.callIDLength { flag(.oversizeField) }
    }

    mutating func contentType(_ start: Int, _ end: Int) {
        guard firstOccurrence(.contentType) else { return }
        message.contentType = text.trimmed(start, end)
    }

    mutating func userAgent(_ start: Int, _ end: Int) {
        guard !seen.contains(.userAgent) else { return }
        seen.insert(.userAgent)
        message.userAgent = text.trimmed(start, end)
    }

    /// RFC 1123 dates in SIP always end in "GMT"; other zones are a known torture case (RFC 4475 §3.1.2.12).
    mutating func date(_ start: Int, _ end: Int) {
        let value = text.trimmed(start, end)
        let last = Int(value.upperBound)
        if value.count < 4 || p[last - 4] != ByteClass.space || !text.equalsIgnoringCase(last - 3, last, "gmt")
            || p[last - 3] != UInt8(ascii: "G")
        {
            flag(.badDate)
        }
    }

    mutating func contentLength(_ start: Int, _ end: Int) {
        guard let value = text.wholeNumber(start, end) else { return flag(.badContentLength) }
        guard value <= UInt64(UInt32.max) else { return flag(.badContentLength) }
        if seen.contains(.contentLength) {
            flag(message.contentLength == UInt32(value) ? .duplicateHeader : .conflictingContentLength)
            return
        }
        seen.insert(.contentLength)
        message.contentLength = UInt32(value)
    }

    mutating func maxForwards(_ start: Int, _ end: Int) {
        guard firstOccurrence(.maxForwards), let value = text.wholeNumber(start, end) else { return }
        if value > UInt64(UInt32.max) { flag(.overlargeValue) }
        message.maxForwards = UInt32(clamping: value)
    }

    mutating func expires(_ start: Int, _ end: Int) {
        guard firstOccurrence(.expires), let value = text.wholeNumber(start, end) else { return }
        if value > UInt64(UInt32.max) { flag(.overlargeValue) }
        message.expires = UInt32(clamping: value)
    }

    mutating func cseq(_ start: Int, _ end: Int) {
        guard firstOccurrence(.cseq) else { return }
        var k = text.skipWhitespace(start, end)
        let digitsStart = k
        var value: UInt64 = 0
        // Up to 11 digits (leading zeros allowed; a twelfth is an error): they cannot overflow, so the value is
        // tested once after them, not after each.
        let digitsEnd = min(end, digitsStart &+ 11)
        while k < digitsEnd, ByteClass.isDigit(p[k]) {
            value = value &* 10 &+ UInt64(p[k] &- 0x30)
            k &+= 1
        }
        guard k > digitsStart, value <= UInt64(UInt32.max), k == end || !ByteClass.isDigit(p[k]) else {
            return flag(.badCSeq)
        }
        message.cseq.number = UInt32(value)
        k = text.skipWhitespace(k, end)
        let methodStart = k
        // A request's CSeq nearly always ends in its own method's name (a token, read from the start line):
        // one comparison then says where the token ends and which method it is, without the token search.
        let method = message.methodToken
        if message.kind == .request, end &- k == method.count, text.equalShortBytes(method, ByteRange(k, end)) {
            message.cseq.methodToken = ByteRange(k, end)
            message.cseq.method = message.method
            return
        }
        k = text.tokenEnd(from: k, to: end)
        guard k > methodStart, text.skipWhitespace(k, end) == end else { return flag(.badCSeq) }
        let token = ByteRange(methodStart, k)
        message.cseq.methodToken = token
        // A request's CSeq names its own method (the start line was read first): known without reading again.
        if message.kind == .request, text.equalBytes(message.methodToken, token) {
            message.cseq.method = message.method
        } else {
            if message.kind == .request { flag(.methodMismatch) }
            message.cseq.method = recogniseMethod(methodStart, k)
        }
    }

    // MARK: - Via

    mutating func via(_ start: Int, _ end: Int) {
        // Count the comma-separated values; an empty one is an empty parameter. The top value's
        // parameters were checked as it was read: the count goes on from where that ended, if it could.
        var counted = start
        if message.via.count == 0, let topEnd = topVia(start, end) {
            // The top value ran to the header's end, as nearly always: no other value to count or check.
            guard topEnd < end else {
                message.via.count = 1
                return
            }
            counted = topEnd
        }
        var values: UInt16 = 1
        var k = text.firstIndex(of: ByteClass.quote, UInt8(ascii: ","), UInt8(ascii: ";"), from: counted, to: end)
        var elementStart = start
        while k < end {
            switch p[k] {
            case ByteClass.quote:
                guard let close = text.closingQuote(k, end) else {
                    // The values read so far still count: a later Via header must not become the top one.
                    message.via.count &+= values
                    return flag(.unbalancedQuotes)
                }
                k = close
            case UInt8(ascii: ","):
                if text.skipWhitespace(elementStart, k) == k { flag(.emptyParameter) }
                values &+= 1
                elementStart = k + 1
            case UInt8(ascii: ";"):
                let next = text.skipWhitespace(k + 1, end)
                if next == end || p[next] == UInt8(ascii: ";") || p[next] == UInt8(ascii: ",") {
                    flag(.emptyParameter)
                }
            default: break
            }
            k = text.firstIndex(of: ByteClass.quote, UInt8(ascii: ","), UInt8(ascii: ";"), from: k + 1, to: end)
        }
        if text.skipWhitespace(elementStart, end) == end { flag(.emptyParameter) }
        message.via.count &+= values
    }

    /// sent-protocol LWS sent-by *( SEMI via-params ), with white space allowed around "/". Returns where
    /// the value ended (its end, or the comma before the next value) when it was read whole and holds no
    /// quote, so that every semicolon in it was checked here; nil when the caller must look again.
    mutating func topVia(_ start: Int, _ end: Int) -> Int? {
        var k = text.skipWhitespace(start, end)
        // Nearly every Via starts "SIP/2.0/": one comparison instead of two tokens and their slashes.
        var firstPart = 0
        if end &- k > 8, text.equalsIgnoringCase(k, k &+ 8, "sip/2.0/") {
            k &+= 8
            firstPart = 2
            // Nearly every transport is three letters and a space (UDP, TCP, TLS, WSS): a token ended, read
            // without setting up the token search.
            if end &- k > 3, p[k &+ 3] == ByteClass.space, ByteClass.isLetter(p[k]), ByteClass.isLetter(p[k &+ 1]),
                ByteClass.isLetter(p[k &+ 2])
            {
                message.via.transport = ByteRange(k, k &+ 3)
                k = text.skipWhitespace(k &+ 4, end)
                firstPart = 3
            }
        }
        for part in firstPart..<3 {
            k = text.skipWhitespace(k, end)
            let tokenStart = k
            k = text.tokenEnd(from: k, to: end)
            if part == 2 { message.via.transport = ByteRange(tokenStart, k) }
            k = text.skipWhitespace(k, end)
            if part < 2 {
                guard k < end, p[k] == UInt8(ascii: "/") else { return nil }
                k += 1
            }
        }
        let sentByStart = k
        if k < end, p[k] == UInt8(ascii: "[") {
            while k < end, p[k] != UInt8(ascii: "]") { k += 1 }
            k = min(k + 1, end)
        } else {
            k = text.wordEnd(at: UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: ","), from: k, to: end)
        }
        message.via.host = ByteRange(sentByStart, k)
        message.via.port = text.port(&k, end)
        message.via.sentBy = ByteRange(sentByStart, k)
        while let parameter = nextParameter(&k, end) {
            if parameter.isNamed("branch", text) {
                message.via.branch = parameter.value
            } else if parameter.isNamed("rport", text) {
                message.via.hasRport = true
            } else if parameter.isNamed("received", text) {
                message.via.received = parameter.value
            }
        }
        guard k == end || p[k] == UInt8(ascii: ","), text.firstIndex(of: ByteClass.quote, from: start, to: k) == k
        else { return nil }
        return k
    }

    // MARK: - Parameters and quoted strings

    struct Parameter {
        var name: ByteRange
        var value: ByteRange
        @inline(__always)
        func isNamed(_ lowercased: StaticString, _ text: MessageBytes) -> Bool {
            text.equalsIgnoringCase(Int(name.lowerBound), Int(name.upperBound), lowercased)
        }
    }

    /// The parameter after `;` at `k` (white space allowed around `;` and `=`), or nil at a `,` or the end.
    /// Inlined up to the `;`: the last look finds none, and then no call is made.
    @_transparent
    mutating func nextParameter(_ k: inout Int, _ end: Int) -> Parameter? {
        k = text.skipWhitespace(k, end)
        guard k < end, p[k] == UInt8(ascii: ";") else { return nil }
        return parameter(semicolon: &k, end)
    }

    /// The parameter after the `;` at `k`, as `nextParameter` reads it.
    mutating func parameter(semicolon k: inout Int, _ end: Int) -> Parameter? {
        var i = text.skipWhitespace(k &+ 1, end)
        let nameStart = i
        i = text.tokenEnd(from: i, to: end)
        let name = ByteRange(nameStart, i)
        if name.isEmpty { flag(.emptyParameter) }
        i = text.skipWhitespace(i, end)
        var value = ByteRange(i, i)
        if i < end, p[i] == UInt8(ascii: "=") {
            i = text.skipWhitespace(i + 1, end)
            if i < end, p[i] == ByteClass.quote {
                guard let close = text.closingQuote(i, end) else {
                    flag(.unbalancedQuotes)
                    k = end
                    return nil
                }
                value = ByteRange(i + 1, close)
                i = close + 1
            } else {
                let valueStart = i
                i = text.wordEnd(at: UInt8(ascii: ";"), UInt8(ascii: ","), UInt8(ascii: ","), from: i, to: end)
                value = ByteRange(valueStart, i)
            }
        }
        k = i
        return Parameter(name: name, value: value)
    }

    // MARK: - From, To, Contact

    mutating func from(_ start: Int, _ end: Int) {
        guard firstOccurrence(.from) else { return }
        nameAddress(start, end, isContact: false, into: &message.from)
    }

    mutating func to(_ start: Int, _ end: Int) {
        guard firstOccurrence(.to) else { return }
        nameAddress(start, end, isContact: false, into: &message.to)
    }

    /// RFC 3515 allows one Refer-To: a second is a duplicate.
    mutating func referTo(_ start: Int, _ end: Int) {
        guard firstOccurrence(.referTo) else { return }
        nameAddress(start, end, isContact: false, into: &message.referTo)
    }

    mutating func contact(_ start: Int, _ end: Int) {
        guard !seen.contains(.contact) else { return }
        seen.insert(.contact)
        // `*` alone between white space; nearly every value starts with something else, and then its end is
        // not read.
        let first = text.skipWhitespace(start, end)
        if first < end, p[first] == UInt8(ascii: "*"), text.skipWhitespace(first &+ 1, end) == end {
            message.contactIsWildcard = true
            message.contact.isPresent = true
            return
        }
        // From the value's first byte: the white space before it was passed over once, above.
        nameAddress(first, end, isContact: true, into: &message.contact)
    }

    /// name-addr or addr-spec followed by parameters; for Contact, only the first value. Not inlined:
    /// three copies of it (From, To, Contact) would save 60 instructions a message for 3.6 kB more code,
    /// which a packet judged with cold caches pays for.
    mutating func nameAddress(_ start: Int, _ end: Int, isContact: Bool, into result: inout NameAddress) {
        result.isPresent = true
        var k = text.skipWhitespace(start, end)
        var angle = -1
        if k < end, p[k] == ByteClass.quote {
            guard let close = text.closingQuote(k, end) else {
                flag(.unbalancedQuotes)
                return
            }
            result.displayName = ByteRange(k + 1, close)
            k = text.skipWhitespace(close + 1, end)
            guard k < end, p[k] == UInt8(ascii: "<") else {
                flag(.badNameAddress)
                return
            }
            angle = k
        } else if k < end, p[k] == UInt8(ascii: "<") {
            // No display name, as in most values: the `<` is here, without a search for it.
            angle = k
            result.displayName = ByteRange(k, k)
        } else {
            // The `<`, or for a Contact a `,` before it, which ends its first value: two searches with constant
            // vectors, where one with the separator chosen at run time spread it over a vector first.
            let j =
                isContact
                ? text.firstIndex(of: UInt8(ascii: "<"), UInt8(ascii: ","), UInt8(ascii: ","), from: k, to: end)
                : text.firstIndex(of: UInt8(ascii: "<"), from: k, to: end)
            if j < end, p[j] == UInt8(ascii: "<") {
                angle = j
                result.displayName = text.trimmed(k, j)
                for d in result.displayName.range where !ByteClass.isToken(p[d]) && !ByteClass.isWhitespace(p[d]) {
                    flag(.badDisplayName)
                    break
                }
            }
        }
        var uriIsValid: Bool
        if angle >= 0 {
            let uriStart = angle &+ 1
            let close = text.firstIndex(of: UInt8(ascii: ">"), from: uriStart, to: end)
            guard close < end else {
                flag(.badNameAddress)
                return
            }
            var uri = ByteRange(uriStart, close)
            if uriStart < close, ByteClass.isWhitespace(p[uriStart]) || ByteClass.isWhitespace(p[close - 1]) {
                flag(.badNameAddress)
                uri = text.trimmed(uriStart, close)
            }
            (uriIsValid, _) = text.parseURI(Int(uri.lowerBound), Int(uri.upperBound), into: &result.uri)
            k = close + 1
        } else {
            // addr-spec: the URI ends at the first ";" (header parameters follow) or white space.
            let uriStart = k
            let separator = isContact ? UInt8(ascii: ",") : UInt8(ascii: ";")
            k = text.wordEnd(at: UInt8(ascii: ";"), separator, separator, from: k, to: end)
            let hostEnd: Int
            (uriIsValid, hostEnd) = text.parseURI(uriStart, k, into: &result.uri)
            // RFC 3261 §20.10: a URI with "?", "," or ";" must be in angle brackets.
            if text.hasHeaders(hostEnd, k) { flag(.badNameAddress) }
        }
        if !uriIsValid { flag(.badNameAddress) }
        if result.uri.whole.count > limits.uriLength { flag(.oversizeField) }
        while let parameter = nextParameter(&k, end) {
            if parameter.isNamed("tag", text) { result.tag = parameter.value }
        }
    }

    // MARK: - URIs

    // MARK: - Digest

    mutating func credentials(_ start: Int, _ end: Int, isProxy: Bool) {
        guard !seen.contains(.authorization) else {
            var other = DigestFields()
            digest(start, end, into: &other)
            if !text.equalBytes(message.authorization.username, other.username) {
                flag(.rivalCredentials)
                if message.authorization.rivalUsername.isEmpty { message.authorization.rivalUsername = other.username }
            }
            return
        }
        seen.insert(.authorization)
        digest(start, end, into: &message.authorization)
        message.authorization.isProxy = isProxy
    }

    mutating func challenge(_ start: Int, _ end: Int, isProxy: Bool) {
        guard !seen.contains(.challenge) else { return }
        seen.insert(.challenge)
        digest(start, end, into: &message.challenge)
        message.challenge.isProxy = isProxy
    }

    /// `scheme name=value, name="value", …` with the values this filter uses picked out, into `fields`, which
    /// hold nothing yet: the message's own are filled where they lie, not returned and copied into it.
    mutating func digest(_ start: Int, _ end: Int, into fields: inout DigestFields) {
        fields.isPresent = true
        var k = text.skipWhitespace(start, end)
        let schemeStart = k
        k = text.tokenEnd(from: k, to: end)
        fields.scheme = ByteRange(schemeStart, k)
        while k < end {
            k = text.skipWhitespace(k, end)
            let nameStart = k
            k = text.tokenEnd(from: k, to: end)
            let nameEnd = k
            k = text.skipWhitespace(k, end)
            guard k < end, p[k] == UInt8(ascii: "=") else { break }
            k = text.skipWhitespace(k + 1, end)
            var value: ByteRange
            if k < end, p[k] == ByteClass.quote {
                guard let close = text.closingQuote(k, end) else {
                    flag(.unbalancedQuotes)
                    break
                }
                value = ByteRange(k + 1, close)
                k = close + 1
            } else {
                let valueStart = k
                k = text.wordEnd(at: UInt8(ascii: ","), UInt8(ascii: ","), UInt8(ascii: ","), from: k, to: end)
                value = ByteRange(valueStart, k)
            }
            text.assign(value, toDigestParameter: nameStart, nameEnd, in: &fields)
            // A missing comma between parameters is tolerated (RFC 3665 §2.1 F3 has one).
            k = text.skipWhitespace(k, end)
            if k < end, p[k] == UInt8(ascii: ",") { k += 1 }
        }
    }

}
