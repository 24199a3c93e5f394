extension SIPMessage {
    /// The message's fields as JSON, text taken from `bytes` (the buffer the message was classified from).
    public func reportFields(in bytes: UnsafeRawBufferPointer) -> [(String, JSONValue)] {
        func text(_ range: ByteRange) -> JSONValue { range.isEmpty ? .null : .string(bytes.string(range)) }
        func uri(_ uri: SIPURI) -> JSONValue {
            guard !uri.whole.isEmpty else { return .null }
            return .object([
                ("uri", text(uri.whole)), ("scheme", text(uri.scheme)), ("user", text(uri.user)),
                ("host", text(uri.host)), ("port", uri.port == 0 ? .null : .int(Int(uri.port))),
            ])
        }
        func nameAddress(_ address: NameAddress) -> JSONValue {
            guard address.isPresent else { return .null }
            return .object([
                ("display_name", text(address.displayName)), ("uri", uri(address.uri)), ("tag", text(address.tag)),
            ])
        }
        func digest(_ fields: DigestFields) -> JSONValue {
            guard fields.isPresent else { return .null }
            return .object([
                ("proxy", .bool(fields.isProxy)), ("scheme", text(fields.scheme)), ("username", text(fields.username)),
                ("realm", text(fields.realm)), ("nonce", text(fields.nonce)), ("uri", text(fields.uri)),
                ("response", text(fields.response)), ("qop", text(fields.qop)), ("nc", text(fields.nc)),
                ("cnonce", text(fields.cnonce)), ("algorithm", text(fields.algorithm)),
                ("stale", .bool(fields.isStale)), ("rival_username", text(fields.rivalUsername)),
            ])
        }
        func number(_ value: UInt32?) -> JSONValue { value.map { .int(Int($0)) } ?? .null }

        return [
            ("kind", .string(kind.rawValue)),
            ("method", text(methodToken)),
            ("status", status == 0 ? .null : .int(Int(status))),
            ("reason", isResponse ? .string(bytes.string(reason)) : .null),
            ("malformed", .bool(isMalformed)),
            ("anomalies", .array(anomalies.names.map(JSONValue.string))),
            ("request_uri", uri(requestURI)),
            (
                "via",
                via.count == 0
                    ? .null
                    : .object([
                        ("count", .int(Int(via.count))), ("transport", text(via.transport)),
                        ("sent_by", text(via.sentBy)), ("branch", text(via.branch)), ("rport", .bool(via.hasRport)),
                    ])
            ),
            ("from", nameAddress(from)),
            ("to", nameAddress(to)),
            ("call_id", text(callID)),
            (
                "cseq",
                cseq.methodToken.isEmpty
                    ? .null : .object([("number", .int(Int(cseq.number))), ("method", text(cseq.methodToken))])
            ),
            ("max_forwards", number(maxForwards)),
            ("contact", contactIsWildcard ? .string("*") : nameAddress(contact)),
            ("refer_to", nameAddress(referTo)),
            ("user_agent", text(userAgent)),
            ("content_length", number(contentLength)),
            ("content_type", text(contentType)),
            ("expires", number(expires)),
            ("authorization", digest(authorization)),
            ("challenge", digest(challenge)),
            ("body_length", .int(body.count)),
            ("sdp_inline_key", .bool(sdpHasInlineKey)),
        ]
    }
}
