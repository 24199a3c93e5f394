import TOMLKit

extension RuleSet {
    /// Reads a rule file's text over these rules: keys it sets replace the current values (arrays are
    /// replaced whole). Returns the file's `include` list, in order, as written.
    /// Throws every problem found, each with the file and a line/column, or a key path and its line, in
    /// the order of the lines, and the `include` list when the file parses; on error the rules are left
    /// as they were.
    @discardableResult
    public mutating func apply(toml text: String, file: String) throws(RulesErrors) -> [String] {
        if let (line, column, message) = ParserTraps.first(in: text) {
            throw RulesErrors([.syntax(file: file, line: line, column: column, message: message)])
        }
        let document: TOMLTable
        do {
            document = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let (line, column) = (error.source.begin.line, error.source.begin.column)
            throw RulesErrors([
                .syntax(
                    file: file, line: line, column: column,
                    message: RuleText.syntaxMessage(error.description, line: line, column: column, in: text))
            ])
        } catch {
            throw RulesErrors([.syntax(file: file, line: 1, column: 1, message: "\(error)")])
        }
        var reader = RuleReader(file: file)
        var updated = self
        let top = reader.entries(of: document, at: "", known: Self.sections + ["include"])
        let includes = reader.strings(top["include"], at: "include") ?? []
        for section in Self.sections {
            guard let table = reader.table(top[section], at: section) else { continue }
            updated.read(section, table, with: &reader)
        }
        guard reader.errors.isEmpty else {
            // In the order of the file's lines, each with its key's.
            let lines = KeyLines(text)
            let placed = reader.errors.enumerated().map { ($0.element.placed(by: lines), $0.offset) }
            let sorted = placed.sorted { ($0.0.line ?? .max, $0.1) < ($1.0.line ?? .max, $1.1) }
            throw RulesErrors(sorted.map(\.0), includes: includes)
        }
        self = updated
        return includes
    }

    /// `apply(toml:file:)` for a file's bytes, which must be UTF-8.
    @discardableResult
    public mutating func apply(toml bytes: [UInt8], file: String) throws(RulesErrors) -> [String] {
        try apply(toml: RuleText.decode(bytes, file: file), file: file)
    }

    /// What the merged rules get wrong that no single file may: thresholds that cross (one file may set
    /// `score.drop_at` and another `score.ban_at`). Named after `file`, the main rule file.
    public func mergedErrors(file: String) -> [RulesError] {
        guard score.dropAt > score.banAt else { return [] }
        return [
            .badValue(
                file: file, key: "score.drop_at", value: Rate.number(score.dropAt),
                expected: "at most score.ban_at (\(Rate.number(score.banAt))) in the rules of every file together")
        ]
    }

    /// One ban TTL: whole seconds, as the kernel's ban sets count their timeouts, up to ipset's longest.
    static func banTTL(_ reader: inout RuleReader, _ value: TOMLValueConvertible, at key: String) -> Int64? {
        guard let ttl = reader.duration(value, at: key, atMost: BanSets.longestTimeout, " (ipset's longest timeout)")
        else { return nil }
        guard ttl % 1_000_000_000 == 0 else {
            reader.errors.append(
                .badValue(
                    file: reader.file, key: key, value: "\"\(value.string ?? "")\"",
                    expected: "whole seconds (the kernel's ban sets count their timeouts in seconds)"))
            return nil
        }
        return ttl
    }

    /// The shipped defaults with one rule file applied (its includes are not followed).
    public init(toml text: String, file: String) throws(RulesErrors) {
        self.init()
        try apply(toml: text, file: file)
    }

    static let sections = [
        "daemon", "ports", "trust", "limits", "score", "bans", "enumeration", "guessing", "toll_fraud", "policy",
        "signatures", "tables", "classifier", "firewall",
    ]

    static func key(_ detector: Detector) -> String { detector.rawValue.replacingOccurrences(of: "-", with: "_") }

    mutating func read(_ section: String, _ table: TOMLTable, with reader: inout RuleReader) {
        func keys(_ known: [String]) -> [String: TOMLValueConvertible] {
            reader.entries(of: table, at: section, known: known)
        }
        switch section {
        case "daemon":
            let k = keys([
                "queues", "mode", "copy_range", "queue_length", "queue_full", "batch", "batch_wait_us",
                "receive_buffer_mib", "control_socket", "metrics", "state_file",
            ])
            if let value = reader.queueRange(k["queues"], at: "daemon.queues") { daemon.queues = value }
            if let value = reader.choice(k["mode"], at: "daemon.mode", as: Mode.self) { daemon.mode = value }
            if let value = reader.integer(k["copy_range"], at: "daemon.copy_range", in: 128...65535) {
                daemon.copyRange = value
            }
            if let value = reader.integer(k["queue_length"], at: "daemon.queue_length", in: 1...1_048_576) {
                daemon.queueLength = value
            }
            if let value = reader.choice(k["queue_full"], at: "daemon.queue_full", as: QueueFull.self) {
                daemon.queueFull = value
            }
            if let value = reader.integer(k["batch"], at: "daemon.batch", in: 1...1024) { daemon.batch = value }
            if let value = reader.integer(k["batch_wait_us"], at: "daemon.batch_wait_us", in: 0...10_000) {
                daemon.batchWaitMicroseconds = value
            }
            if let value = reader.integer(k["receive_buffer_mib"], at: "daemon.receive_buffer_mib", in: 1...1024) {
                daemon.receiveBufferMiB = value
            }
            if let value = reader.absolutePath(k["control_socket"], at: "daemon.control_socket") {
                daemon.controlSocket = value
            }
            if let value = reader.endpoint(k["metrics"], at: "daemon.metrics") { daemon.metrics = value }
            if let value = reader.optionalAbsolutePath(k["state_file"], at: "daemon.state_file") {
                daemon.stateFile = value
            }
        case "ports":
            let k = keys(["sip_udp", "sip_tcp", "sip_tls"])
            if let value = reader.ports(k["sip_udp"], at: "ports.sip_udp") { ports.sipUDP = value }
            if let value = reader.ports(k["sip_tcp"], at: "ports.sip_tcp") { ports.sipTCP = value }
            if let value = reader.ports(k["sip_tls"], at: "ports.sip_tls") { ports.sipTLS = value }
        case "trust":
            let k = keys(["allow", "deny"])
            if let value = reader.prefixes(k["allow"], at: "trust.allow") { trust.allow = value }
            if let value = reader.prefixes(k["deny"], at: "trust.deny") { trust.deny = value }
        case "limits":
            let classes = MethodClass.allCases.map(\.rawValue)
            let k = keys(classes + ["unknown_sources", "unknown_sources_burst", "good_source_factor"])
            read(&limits.unknownSources, k, "unknown_sources", at: "limits", with: &reader)
            // Below 1 a good history would cost a source its rates: an error, not a value quietly raised.
            if let value = reader.number(k["good_source_factor"], at: "limits.good_source_factor", atLeast: 1) {
                limits.goodSourceFactor = value
            }
            for methodClass in MethodClass.allCases {
                let path = "limits.\(methodClass.rawValue)"
                guard let classTable = reader.table(k[methodClass.rawValue], at: path) else { continue }
                let scopes = ["source", "prefix", "global"]
                let c = reader.entries(of: classTable, at: path, known: scopes + scopes.map { "\($0)_burst" })
                var value = limits[methodClass]
                read(&value.source, c, "source", at: path, with: &reader)
                read(&value.prefix, c, "prefix", at: path, with: &reader)
                read(&value.global, c, "global", at: path, with: &reader)
                limits.classes[methodClass] = value
            }
        case "score":
            let k = keys(["half_life", "drop_at", "ban_at", "points"])
            if let value = reader.duration(k["half_life"], at: "score.half_life") { score.halfLife = value }
            // At least 1: every source has a score of 0, and a threshold there would drop or ban them all.
            if let value = reader.number(k["drop_at"], at: "score.drop_at", atLeast: 1) { score.dropAt = value }
            if let value = reader.number(k["ban_at"], at: "score.ban_at", atLeast: 1) { score.banAt = value }
            if let points = reader.table(k["points"], at: "score.points") {
                let p = reader.entries(of: points, at: "score.points", known: Detector.allCases.map(Self.key))
                for detector in Detector.allCases {
                    if let value = reader.number(p[Self.key(detector)], at: "score.points.\(Self.key(detector))") {
                        score.points[detector] = value
                    }
                }
            }
        case "bans":
            let k = keys(["ttl", "prefix_members", "prefix_window"])
            if k["ttl"]?.array?.isEmpty == true {
                reader.errors.append(
                    .badValue(file: reader.file, key: "bans.ttl", value: "[]", expected: "at least one duration"))
            } else if let count = k["ttl"]?.array?.count, count > BanSets.largestClass {
                reader.errors.append(
                    .badValue(
                        file: reader.file, key: "bans.ttl", value: "\(count) durations",
                        expected: "at most \(BanSets.largestClass) (a ban class is 7 bits of the packet mark)"))
            } else if let value = reader.array(k["ttl"], at: "bans.ttl", of: "durations", Self.banTTL) {
                bans.ttl = value
            }
            if let value = reader.integer(k["prefix_members"], at: "bans.prefix_members", in: 0...65535) {
                bans.prefixMembers = value
            }
            if let value = reader.duration(k["prefix_window"], at: "bans.prefix_window") { bans.prefixWindow = value }
        case "enumeration":
            let k = keys([
                "window", "distinct_users", "not_found", "sequential_users", "prefix_not_found", "grace_users",
            ])
            if let value = reader.duration(k["window"], at: "enumeration.window") { enumeration.window = value }
            if let value = reader.integer(k["distinct_users"], at: "enumeration.distinct_users", in: 1...250) {
                enumeration.distinctUsers = value
            }
            if let value = reader.integer(k["not_found"], at: "enumeration.not_found", in: 1...65535) {
                enumeration.notFound = value
            }
            if let value = reader.integer(k["sequential_users"], at: "enumeration.sequential_users", in: 1...250) {
                enumeration.sequentialUsers = value
            }
            if let value = reader.integer(k["prefix_not_found"], at: "enumeration.prefix_not_found", in: 1...65535) {
                enumeration.prefixNotFound = value
            }
            if let value = reader.integer(k["grace_users"], at: "enumeration.grace_users", in: 0...150) {
                enumeration.graceUsers = value
            }
        case "guessing":
            let k = keys([
                "window", "distributed_failures", "distributed_sources", "office_failures", "office_failures_burst",
                "office_accounts", "account_addresses", "spray_accounts", "foreign_nonces",
            ])
            if let value = reader.duration(k["window"], at: "guessing.window") { guessing.window = value }
            if let value = reader.integer(k["distributed_failures"], at: "guessing.distributed_failures", in: 1...65535)
            {
                guessing.distributedFailures = value
            }
            if let value = reader.integer(k["distributed_sources"], at: "guessing.distributed_sources", in: 1...8) {
                guessing.distributedSources = value
            }
            read(&guessing.officeFailures, k, "office_failures", at: "guessing", with: &reader)
            if let value = reader.integer(k["office_accounts"], at: "guessing.office_accounts", in: 0...65535) {
                guessing.officeAccounts = value
            }
            if let value = reader.integer(k["account_addresses"], at: "guessing.account_addresses", in: 1...8) {
                guessing.accountAddresses = value
            }
            if let value = reader.integer(k["spray_accounts"], at: "guessing.spray_accounts", in: 1...300) {
                guessing.sprayAccounts = value
            }
            if let value = reader.integer(k["foreign_nonces"], at: "guessing.foreign_nonces", in: 0...65535) {
                guessing.foreignNonces = value
            }
        case "toll_fraud":
            let k = keys([
                "high_risk_prefixes", "domestic_prefixes", "own_numbers", "calls_per_user", "calls_per_user_burst",
                "prefix_variants", "number_digits",
            ])
            if let value = reader.numbers(k["high_risk_prefixes"], at: "toll_fraud.high_risk_prefixes") {
                tollFraud.highRiskPrefixes = value
            }
            if let value = reader.numbers(k["domestic_prefixes"], at: "toll_fraud.domestic_prefixes") {
                tollFraud.domesticPrefixes = value
            }
            if let value = reader.numbers(k["own_numbers"], at: "toll_fraud.own_numbers") {
                tollFraud.ownNumbers = value
            }
            read(&tollFraud.callsPerUser, k, "calls_per_user", at: "toll_fraud", with: &reader)
            if let value = reader.integer(k["prefix_variants"], at: "toll_fraud.prefix_variants", in: 2...4) {
                tollFraud.prefixVariants = value
            }
            if let value = reader.integer(k["number_digits"], at: "toll_fraud.number_digits", in: 4...15) {
                tollFraud.numberDigits = value
            }
        case "policy":
            let k = keys(["malformed", "cleartext_keys"])
            if let value = reader.choice(k["malformed"], at: "policy.malformed", as: Policy.Action.self) {
                policy.malformed = value
            }
            if let value = reader.choice(k["cleartext_keys"], at: "policy.cleartext_keys", as: Policy.Action.self) {
                policy.cleartextKeys = value
            }
        case "signatures":
            let k = keys(["user_agents", "shared_user_agents", "structural_marks"])
            if let value = reader.strings(k["user_agents"], at: "signatures.user_agents") {
                signatures.userAgents = value.map { $0.lowercased() }
            }
            if let value = reader.strings(k["shared_user_agents"], at: "signatures.shared_user_agents") {
                signatures.sharedUserAgents = value.map { $0.lowercased() }
            }
            if let value = reader.bool(k["structural_marks"], at: "signatures.structural_marks") {
                signatures.structuralMarks = value
            }
        case "tables":
            let k = keys(["sources", "prefixes", "users", "nonces", "dialogs"])
            let range = 1024...(1 << 26)
            if let value = reader.integer(k["sources"], at: "tables.sources", in: range) { tables.sources = value }
            if let value = reader.integer(k["prefixes"], at: "tables.prefixes", in: range) { tables.prefixes = value }
            if let value = reader.integer(k["users"], at: "tables.users", in: range) { tables.users = value }
            if let value = reader.integer(k["nonces"], at: "tables.nonces", in: range) { tables.nonces = value }
            if let value = reader.integer(k["dialogs"], at: "tables.dialogs", in: range) { tables.dialogs = value }
        case "classifier":
            let k = keys(["max_uri", "max_call_id", "max_header", "max_message"])
            if let value = reader.integer(k["max_uri"], at: "classifier.max_uri", in: 16...65535) {
                classifierLimits.uriLength = value
            }
            if let value = reader.integer(k["max_call_id"], at: "classifier.max_call_id", in: 16...65535) {
                classifierLimits.callIDLength = value
            }
            if let value = reader.integer(k["max_header"], at: "classifier.max_header", in: 64...65535) {
                classifierLimits.headerLength = value
            }
            if let value = reader.integer(k["max_message"], at: "classifier.max_message", in: 256...65535) {
                classifierLimits.messageLength = value
            }
        case "firewall":
            let k = keys([
                "role", "default", "fail_open", "queue_trusted", "admin_networks", "admin_ports", "allow_no_admin",
                "proxies", "websocket_ports", "media_ports", "media_peers", "tcp_connections", "tcp_connections_burst",
                "outbound", "open_tcp_ports", "open_udp_ports",
            ])
            if let value = reader.choice(k["role"], at: "firewall.role", as: Firewall.Role.self) {
                firewall.role = value
            }
            if let value = reader.choice(k["default"], at: "firewall.default", as: Firewall.Default.self) {
                firewall.defaultAction = value
            }
            if let value = reader.bool(k["fail_open"], at: "firewall.fail_open") { firewall.failOpen = value }
            if let value = reader.bool(k["queue_trusted"], at: "firewall.queue_trusted") {
                firewall.queueTrusted = value
            }
            if let value = reader.prefixes(k["admin_networks"], at: "firewall.admin_networks") {
                firewall.adminNetworks = value
            }
            if let value = reader.ports(k["admin_ports"], at: "firewall.admin_ports") { firewall.adminPorts = value }
            if let value = reader.bool(k["allow_no_admin"], at: "firewall.allow_no_admin") {
                firewall.allowNoAdmin = value
            }
            if let value = reader.prefixes(k["proxies"], at: "firewall.proxies") { firewall.proxies = value }
            if let value = reader.ports(k["websocket_ports"], at: "firewall.websocket_ports") {
                firewall.websocketPorts = value
            }
            if let value = reader.ports(k["open_tcp_ports"], at: "firewall.open_tcp_ports") {
                firewall.openTCPPorts = value
            }
            if let value = reader.ports(k["open_udp_ports"], at: "firewall.open_udp_ports") {
                firewall.openUDPPorts = value
            }
            if let value = reader.portRange(k["media_ports"], at: "firewall.media_ports") {
                firewall.mediaPorts = value
            }
            if let value = reader.prefixes(k["media_peers"], at: "firewall.media_peers") { firewall.mediaPeers = value }
            read(&firewall.tcpConnections, k, "tcp_connections", at: "firewall", with: &reader)
            // iptables' hashlimit takes at most a million a second and a burst of a million.
            let (connections, most) = (firewall.tcpConnections, 1_000_000.0)
            if connections.perSecond > most || connections.burst > most {
                let key = connections.perSecond > most ? "tcp_connections" : "tcp_connections_burst"
                reader.errors.append(
                    .badValue(
                        file: reader.file, key: "firewall.\(key)", value: connections.description,
                        expected: "at most \(Rate.number(most))/s with a burst of at most \(Rate.number(most)) "
                            + "(iptables hashlimit's most)"))
            }
            if let value = reader.choice(k["outbound"], at: "firewall.outbound", as: Firewall.Outbound.self) {
                firewall.outbound = value
            }
        default:
            break
        }
    }

    /// Reads `NAME = "rate"` and `NAME_burst = N` into `rate`.
    func read(
        _ rate: inout Rate, _ keys: [String: TOMLValueConvertible], _ name: String, at path: String,
        with reader: inout RuleReader
    ) {
        if let perSecond = reader.rate(keys[name], at: "\(path).\(name)") { rate.perSecond = perSecond }
        // A burst below one event lets nothing through.
        if let burst = reader.number(keys["\(name)_burst"], at: "\(path).\(name)_burst", atLeast: 1) {
            rate.burst = burst
        }
    }
}
