/// Readers for the header values the later stages need. Each takes the value's byte range, which may
/// contain folded line breaks; white space includes CR and LF.
extension MessageScanner {
    // MARK: - Simple values

    mutating func callID(_ start: Int, _ end: Int) {
        guard firstOccurrence(.callID) else { return }
        message.callID = trimmed(start, end)
        if message.callID.count > limits.callIDLength { flag(.oversizeField) }
    }

    mutating func contentType(_ start: Int, _ end: Int) {
        guard firstOccurrence(.contentType) else { return }
        message.contentType = trimmed(start, end)
    }

    mutating func userAgent(_ start: Int, _ end: Int) {
        guard !seen.contains(.userAgent) else { return }
        seen.insert(.userAgent)
        message.userAgent = trimmed(start, end)
    }

    /// RFC 1123 dates in SIP always end in "GMT"; other zones are a known torture case (RFC 4475 §3.1.2.12).
    mutating func date(_ start: Int, _ end: Int) {
        let value = trimmed(start, end)
        let last = Int(value.upperBound)
        if value.count < 4 || p[last - 4] != ByteClass.space || !equalsIgnoringCase(last - 3, last, "gmt")
            || p[last - 3] != UInt8(ascii: "G")
        {
            flag(.badDate)
        }
    }

    mutating func contentLength(_ start: Int, _ end: Int) {
        let range = trimmed(start, end)
        guard let value = wholeNumber(range) else { return flag(.badContentLength) }
        guard value <= UInt64(UInt32.max) else { return flag(.badContentLength) }
        if seen.contains(.contentLength) {
            flag(message.contentLength == UInt32(value) ? .duplicateHeader : .conflictingContentLength)
            return
        }
        seen.insert(.contentLength)
        message.contentLength = UInt32(value)
    }

    mutating func maxForwards(_ start: Int, _ end: Int) {
        guard firstOccurrence(.maxForwards), let value = wholeNumber(trimmed(start, end)) else { return }
        if value > UInt64(UInt32.max) { flag(.overlargeValue) }
        message.maxForwards = UInt32(clamping: value)
    }

    mutating func expires(_ start: Int, _ end: Int) {
        guard firstOccurrence(.expires), let value = wholeNumber(trimmed(start, end)) else { return }
        if value > UInt64(UInt32.max) { flag(.overlargeValue) }
        message.expires = UInt32(clamping: value)
    }

    mutating func cseq(_ start: Int, _ end: Int) {
        guard firstOccurrence(.cseq) else { return }
        var k = skipWhitespace(start, end)
        let digitsStart = k
        var value: UInt64 = 0
        while k < end, ByteClass.isDigit(p[k]) {
            value = value &* 10 &+ UInt64(p[k] &- 0x30)
            if value > UInt64(UInt32.max) || k - digitsStart > 10 { return flag(.badCSeq) }
            k += 1
        }
        guard k > digitsStart else { return flag(.badCSeq) }
        message.cseq.number = UInt32(value)
        k = skipWhitespace(k, end)
        let methodStart = k
        while k < end, ByteClass.isToken(p[k]) { k += 1 }
        guard k > methodStart, skipWhitespace(k, end) == end else { return flag(.badCSeq) }
        message.cseq.methodToken = ByteRange(methodStart, k)
        message.cseq.method = SIPMethod.recognise(p, methodStart, k)
    }

    /// Digits only (leading zeros allowed), saturating above 2^63; nil for anything else.
    func wholeNumber(_ range: ByteRange) -> UInt64? {
        guard !range.isEmpty else { return nil }
        var value: UInt64 = 0
        for k in range.range {
            guard ByteClass.isDigit(p[k]) else { return nil }
            value = value > UInt64(Int64.max) / 10 ? UInt64(Int64.max) : value * 10 + UInt64(p[k] &- 0x30)
        }
        return value
    }

    // MARK: - Via

    mutating func via(_ start: Int, _ end: Int) {
        if message.via.count == 0 { topVia(start, end) }
        // Count the comma-separated values; an empty one is an empty parameter.
        var values: UInt16 = 1
        var k = start
        var elementStart = start
        while k < end {
            switch p[k] {
            case ByteClass.quote:
                guard let close = closingQuote(k, end) else { return flag(.unbalancedQuotes) }
                k = close
            case UInt8(ascii: ","):
                if skipWhitespace(elementStart, k) == k { flag(.emptyParameter) }
                values &+= 1
                elementStart = k + 1
            case UInt8(ascii: ";"):
                let next = skipWhitespace(k + 1, end)
                if next == end || p[next] == UInt8(ascii: ";") || p[next] == UInt8(ascii: ",") {
                    flag(.emptyParameter)
                }
            default: break
            }
            k += 1
        }
        if skipWhitespace(elementStart, end) == end { flag(.emptyParameter) }
        message.via.count &+= values
    }

    /// sent-protocol LWS sent-by *( SEMI via-params ), with white space allowed around "/".
    mutating func topVia(_ start: Int, _ end: Int) {
        var k = start
        for part in 0..<3 {
            k = skipWhitespace(k, end)
            let tokenStart = k
            while k < end, ByteClass.isToken(p[k]) { k += 1 }
            if part == 2 { message.via.transport = ByteRange(tokenStart, k) }
            k = skipWhitespace(k, end)
            if part < 2 {
                guard k < end, p[k] == UInt8(ascii: "/") else { return }
                k += 1
            }
        }
        let sentByStart = k
        if k < end, p[k] == UInt8(ascii: "[") {
            while k < end, p[k] != UInt8(ascii: "]") { k += 1 }
            k = min(k + 1, end)
        } else {
            while k < end, p[k] != UInt8(ascii: ":"), p[k] != UInt8(ascii: ";"), p[k] != UInt8(ascii: ","),
                !ByteClass.isWhitespace(p[k])
            {
                k += 1
            }
        }
        message.via.host = ByteRange(sentByStart, k)
        message.via.port = port(&k, end)
        message.via.sentBy = ByteRange(sentByStart, k)
        while let parameter = nextParameter(&k, end) {
            if parameter.isNamed("branch", self) {
                message.via.branch = parameter.value
            } else if parameter.isNamed("rport", self) {
                message.via.hasRport = true
            } else if parameter.isNamed("received", self) {
                message.via.received = parameter.value
            }
        }
    }

    /// `:port` at `k`, or 0 when there is none.
    func port(_ k: inout Int, _ end: Int) -> UInt16 {
        guard k < end, p[k] == UInt8(ascii: ":") else { return 0 }
        k += 1
        var value = 0
        while k < end, ByteClass.isDigit(p[k]) {
            value = min(value * 10 + Int(p[k] &- 0x30), 65536)
            k += 1
        }
        return value <= 65535 ? UInt16(value) : 0
    }

    // MARK: - Parameters and quoted strings

    struct Parameter {
        var name: ByteRange
        var value: ByteRange
        func isNamed(_ lowercased: StaticString, _ scanner: MessageScanner) -> Bool {
            scanner.equalsIgnoringCase(Int(name.lowerBound), Int(name.upperBound), lowercased)
        }
    }

    /// The parameter after `;` at `k` (white space allowed around `;` and `=`), or nil at a `,` or the end.
    mutating func nextParameter(_ k: inout Int, _ end: Int) -> Parameter? {
        var i = skipWhitespace(k, end)
        guard i < end, p[i] == UInt8(ascii: ";") else {
            k = i
            return nil
        }
        i = skipWhitespace(i + 1, end)
        let nameStart = i
        while i < end, ByteClass.isToken(p[i]) { i += 1 }
        let name = ByteRange(nameStart, i)
        if name.isEmpty { flag(.emptyParameter) }
        i = skipWhitespace(i, end)
        var value = ByteRange(i, i)
        if i < end, p[i] == UInt8(ascii: "=") {
            i = skipWhitespace(i + 1, end)
            if i < end, p[i] == ByteClass.quote {
                guard let close = closingQuote(i, end) else {
                    flag(.unbalancedQuotes)
                    k = end
                    return nil
                }
                value = ByteRange(i + 1, close)
                i = close + 1
            } else {
                let valueStart = i
                while i < end, p[i] != UInt8(ascii: ";"), p[i] != UInt8(ascii: ","), !ByteClass.isWhitespace(p[i]) {
                    i += 1
                }
                value = ByteRange(valueStart, i)
            }
        }
        k = i
        return Parameter(name: name, value: value)
    }

    /// The index of the `"` closing the quoted string that opens at `start`, honouring `\` escapes.
    func closingQuote(_ start: Int, _ end: Int) -> Int? {
        var k = start + 1
        while k < end {
            if p[k] == ByteClass.backslash {
                k += 2
                continue
            }
            if p[k] == ByteClass.quote { return k }
            k += 1
        }
        return nil
    }

    // MARK: - From, To, Contact

    mutating func from(_ start: Int, _ end: Int) {
        guard firstOccurrence(.from) else { return }
        message.from = nameAddress(start, end, isContact: false)
    }

    mutating func to(_ start: Int, _ end: Int) {
        guard firstOccurrence(.to) else { return }
        message.to = nameAddress(start, end, isContact: false)
    }

    mutating func contact(_ start: Int, _ end: Int) {
        guard !seen.contains(.contact) else { return }
        seen.insert(.contact)
        let value = trimmed(start, end)
        if value.count == 1, p[Int(value.lowerBound)] == UInt8(ascii: "*") {
            message.contactIsWildcard = true
            message.contact.isPresent = true
            return
        }
        message.contact = nameAddress(start, end, isContact: true)
    }

    /// name-addr or addr-spec followed by parameters; for Contact, only the first value.
    mutating func nameAddress(_ start: Int, _ end: Int, isContact: Bool) -> NameAddress {
        var result = NameAddress()
        result.isPresent = true
        var k = skipWhitespace(start, end)
        var angle = -1
        if k < end, p[k] == ByteClass.quote {
            guard let close = closingQuote(k, end) else {
                flag(.unbalancedQuotes)
                return result
            }
            result.displayName = ByteRange(k + 1, close)
            k = skipWhitespace(close + 1, end)
            guard k < end, p[k] == UInt8(ascii: "<") else {
                flag(.badNameAddress)
                return result
            }
            angle = k
        } else {
            var j = k
            while j < end, p[j] != UInt8(ascii: "<"), !(isContact && p[j] == UInt8(ascii: ",")) { j += 1 }
            if j < end, p[j] == UInt8(ascii: "<") {
                angle = j
                result.displayName = trimmed(k, j)
                for d in result.displayName.range where !ByteClass.isToken(p[d]) && !ByteClass.isWhitespace(p[d]) {
                    flag(.badDisplayName)
                    break
                }
            }
        }
        var uriIsValid: Bool
        var uriHasHeaders: Bool
        if angle >= 0 {
            let uriStart = angle + 1
            var close = uriStart
            while close < end, p[close] != UInt8(ascii: ">") { close += 1 }
            guard close < end else {
                flag(.badNameAddress)
                return result
            }
            if uriStart < close, ByteClass.isWhitespace(p[uriStart]) || ByteClass.isWhitespace(p[close - 1]) {
                flag(.badNameAddress)
            }
            (result.uri, uriIsValid, _) = parseURI(
                skipWhitespace(uriStart, close), trimmed(uriStart, close).range.upperBound)
            k = close + 1
        } else {
            // addr-spec: the URI ends at the first ";" (header parameters follow) or white space.
            let uriStart = k
            while k < end, p[k] != UInt8(ascii: ";"), !(isContact && p[k] == UInt8(ascii: ",")),
                !ByteClass.isWhitespace(p[k])
            {
                k += 1
            }
            (result.uri, uriIsValid, uriHasHeaders) = parseURI(uriStart, k)
            // RFC 3261 §20.10: a URI with "?", "," or ";" must be in angle brackets.
            if uriHasHeaders { flag(.badNameAddress) }
        }
        if !uriIsValid { flag(.badNameAddress) }
        if result.uri.whole.count > limits.uriLength { flag(.oversizeField) }
        while let parameter = nextParameter(&k, end) {
            if parameter.isNamed("tag", self) { result.tag = parameter.value }
        }
        return result
    }

    // MARK: - URIs

    /// Whether `start..<end` begins with `scheme:`.
    func hasScheme(_ start: Int, _ end: Int) -> Bool {
        var k = start
        while k < end, ByteClass.isSchemeCharacter(p[k]) { k += 1 }
        return k > start && k < end && p[k] == UInt8(ascii: ":")
    }

    /// Splits a URI into scheme, user, host and port. `valid` is false without a scheme;
    /// `hasHeaders` is true when a `?headers` part follows the host.
    func parseURI(_ start: Int, _ end: Int) -> (uri: SIPURI, valid: Bool, hasHeaders: Bool) {
        var uri = SIPURI()
        uri.whole = ByteRange(start, end)
        guard hasScheme(start, end) else { return (uri, false, false) }
        var k = start
        while p[k] != UInt8(ascii: ":") { k += 1 }
        uri.scheme = ByteRange(start, k)
        k += 1
        let isSIP =
            equalsIgnoringCase(start, Int(uri.scheme.upperBound), "sip")
            || equalsIgnoringCase(start, Int(uri.scheme.upperBound), "sips")
        guard isSIP else {
            if equalsIgnoringCase(start, Int(uri.scheme.upperBound), "tel") {
                let userStart = k
                while k < end, p[k] != UInt8(ascii: ";") { k += 1 }
                uri.user = ByteRange(userStart, k)
            }
            return (uri, true, false)
        }
        // userinfo ends at the first "@" (an "@" inside it must be escaped); the user ends at ":".
        let userStart = k
        var at = k
        while at < end, p[at] != UInt8(ascii: "@") { at += 1 }
        if at < end {
            var userEnd = userStart
            while userEnd < at, p[userEnd] != UInt8(ascii: ":") { userEnd += 1 }
            uri.user = ByteRange(userStart, userEnd)
            k = at + 1
        }
        let hostStart = k
        if k < end, p[k] == UInt8(ascii: "[") {
            while k < end, p[k] != UInt8(ascii: "]") { k += 1 }
            k = min(k + 1, end)
        } else {
            while k < end, p[k] != UInt8(ascii: ":"), p[k] != UInt8(ascii: ";"), p[k] != UInt8(ascii: "?") { k += 1 }
        }
        uri.host = ByteRange(hostStart, k)
        uri.port = port(&k, end)
        var hasHeaders = false
        while k < end {
            if p[k] == UInt8(ascii: "?") { hasHeaders = true }
            k += 1
        }
        return (uri, !uri.host.isEmpty, hasHeaders)
    }

    // MARK: - Digest

    mutating func credentials(_ start: Int, _ end: Int, isProxy: Bool) {
        guard !seen.contains(.authorization) else { return }
        seen.insert(.authorization)
        message.authorization = digest(start, end)
        message.authorization.isProxy = isProxy
    }

    mutating func challenge(_ start: Int, _ end: Int, isProxy: Bool) {
        guard !seen.contains(.challenge) else { return }
        seen.insert(.challenge)
        message.challenge = digest(start, end)
        message.challenge.isProxy = isProxy
    }

    /// `scheme name=value, name="value", …` with the values this filter uses picked out.
    mutating func digest(_ start: Int, _ end: Int) -> DigestFields {
        var fields = DigestFields()
        fields.isPresent = true
        var k = skipWhitespace(start, end)
        let schemeStart = k
        while k < end, ByteClass.isToken(p[k]) { k += 1 }
        fields.scheme = ByteRange(schemeStart, k)
        while k < end {
            k = skipWhitespace(k, end)
            let nameStart = k
            while k < end, ByteClass.isToken(p[k]) { k += 1 }
            let nameEnd = k
            k = skipWhitespace(k, end)
            guard k < end, p[k] == UInt8(ascii: "=") else { break }
            k = skipWhitespace(k + 1, end)
            var value: ByteRange
            if k < end, p[k] == ByteClass.quote {
                guard let close = closingQuote(k, end) else {
                    flag(.unbalancedQuotes)
                    break
                }
                value = ByteRange(k + 1, close)
                k = close + 1
            } else {
                let valueStart = k
                while k < end, p[k] != UInt8(ascii: ","), !ByteClass.isWhitespace(p[k]) { k += 1 }
                value = ByteRange(valueStart, k)
            }
            assign(value, toDigestParameter: nameStart, nameEnd, in: &fields)
            // A missing comma between parameters is tolerated (RFC 3665 §2.1 F3 has one).
            k = skipWhitespace(k, end)
            if k < end, p[k] == UInt8(ascii: ",") { k += 1 }
        }
        return fields
    }

    func assign(_ value: ByteRange, toDigestParameter start: Int, _ end: Int, in fields: inout DigestFields) {
        switch end - start {
        case 2:
            if equalsIgnoringCase(start, end, "nc") { fields.nc = value }
        case 3:
            if equalsIgnoringCase(start, end, "uri") { fields.uri = value }
            if equalsIgnoringCase(start, end, "qop") { fields.qop = value }
        case 5:
            if equalsIgnoringCase(start, end, "realm") { fields.realm = value }
            if equalsIgnoringCase(start, end, "nonce") { fields.nonce = value }
        case 6:
            if equalsIgnoringCase(start, end, "cnonce") { fields.cnonce = value }
            if equalsIgnoringCase(start, end, "opaque") { fields.opaque = value }
        case 8:
            if equalsIgnoringCase(start, end, "username") { fields.username = value }
            if equalsIgnoringCase(start, end, "response") { fields.response = value }
        case 9:
            if equalsIgnoringCase(start, end, "algorithm") { fields.algorithm = value }
        default: break
        }
    }
}
