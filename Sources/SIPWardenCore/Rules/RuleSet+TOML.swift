import TOMLKit

extension RuleSet {
    /// Reads a rule file's text over these rules: keys it sets replace the current values.
    /// Throws every problem found, each with the file and a line/column or key path.
    public mutating func apply(toml text: String, file: String) throws(RulesErrors) {
        let document: TOMLTable
        do {
            document = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw RulesErrors([
                .syntax(
                    file: file, line: error.source.begin.line, column: error.source.begin.column,
                    message: error.description)
            ])
        } catch {
            throw RulesErrors([.syntax(file: file, line: 1, column: 1, message: "\(error)")])
        }
        var reader = RuleReader(file: file)
        var updated = self
        let top = reader.entries(of: document, at: "", known: ["daemon", "ports", "trust"])
        if let daemon = reader.table(top["daemon"], at: "daemon") {
            let keys = reader.entries(of: daemon, at: "daemon", known: ["queues", "mode"])
            if let queues = reader.queueRange(keys["queues"], at: "daemon.queues") { updated.daemon.queues = queues }
            if let mode = reader.choice(keys["mode"], at: "daemon.mode", as: Mode.self) { updated.daemon.mode = mode }
        }
        if let ports = reader.table(top["ports"], at: "ports") {
            let keys = reader.entries(of: ports, at: "ports", known: ["sip_udp", "sip_tcp", "sip_tls"])
            if let udp = reader.ports(keys["sip_udp"], at: "ports.sip_udp") { updated.ports.sipUDP = udp }
            if let tcp = reader.ports(keys["sip_tcp"], at: "ports.sip_tcp") { updated.ports.sipTCP = tcp }
            if let tls = reader.ports(keys["sip_tls"], at: "ports.sip_tls") { updated.ports.sipTLS = tls }
        }
        if let trust = reader.table(top["trust"], at: "trust") {
            let keys = reader.entries(of: trust, at: "trust", known: ["allow", "deny"])
            if let allow = reader.prefixes(keys["allow"], at: "trust.allow") { updated.trust.allow = allow }
            if let deny = reader.prefixes(keys["deny"], at: "trust.deny") { updated.trust.deny = deny }
        }
        guard reader.errors.isEmpty else { throw RulesErrors(reader.errors) }
        self = updated
    }

    /// The shipped defaults with one rule file applied.
    public init(toml text: String, file: String) throws(RulesErrors) {
        self.init()
        try apply(toml: text, file: file)
    }
}
