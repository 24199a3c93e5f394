import Foundation
import Testing

@testable import SIPWardenCore

@Suite struct RuleSetTests {
    static let shipped: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().appendingPathComponent("Rules/sipwarden.toml")
    }()

    func errors(_ text: String) -> [RulesError] {
        do {
            _ = try RuleSet(toml: text, file: "test.toml")
            return []
        } catch {
            return error.errors
        }
    }

    @Test func shippedFileEqualsBuiltInDefaults() throws {
        let text = try String(contentsOf: Self.shipped, encoding: .utf8)
        #expect(try RuleSet(toml: text, file: "Rules/sipwarden.toml") == RuleSet())
    }

    @Test func valuesAreRead() throws {
        let rules = try RuleSet(
            toml: """
                [daemon]
                queues = "2-5"
                mode = "monitor"
                [ports]
                sip_udp = [5060, 5080]
                [trust]
                allow = ["192.0.2.0/24", "2001:db8::/48"]
                [guessing]
                office_failures = "60/min"
                office_failures_burst = 20
                office_accounts = 10
                account_addresses = 2
                spray_accounts = 50
                foreign_nonces = 5
                [enumeration]
                grace_users = 0
                [tables]
                dialogs = 4096
                """, file: "site.toml")
        #expect(rules.tables.dialogs == 4096)
        #expect(rules.guessing.officeFailures == Rate(perSecond: 1, burst: 20))
        #expect(rules.enumeration.graceUsers == 0)
        #expect(rules.guessing.officeAccounts == 10)
        #expect(rules.guessing.accountAddresses == 2)
        #expect(rules.guessing.sprayAccounts == 50)
        #expect(rules.guessing.foreignNonces == 5)
        #expect(rules.daemon.queues == 2...5)
        #expect(rules.daemon.mode == .monitor)
        #expect(rules.ports.sipUDP == [5060, 5080])
        #expect(rules.ports.sipTCP == [5060])
        #expect(rules.trust.allow == [IPPrefix("192.0.2.0/24")!, IPPrefix("2001:db8::/48")!])
    }

    /// What a reload cannot apply is named, key by key; what it applies (the mode, limits) is not.
    @Test func reloadNamesTheKeysThatWaitForTheNextStart() throws {
        let reloaded = try RuleSet(
            toml: """
                [daemon]
                mode = "monitor"
                batch = 32
                metrics = ""
                [tables]
                sources = 1024
                [limits.invite]
                source = "5/s"
                """, file: "site.toml")
        #expect(RuleSet().startOnlyKeys(changedIn: reloaded) == ["daemon.batch", "daemon.metrics", "tables.sources"])
        #expect(RuleSet().startOnlyKeys(changedIn: RuleSet()) == [])
    }

    /// A string left open is named so, at the end of its line or file; toml++ calls the line break a
    /// forbidden control character. A control character inside a string keeps toml++'s words.
    @Test(arguments: [
        ("[daemon]\nmode = \"enforce\n", 16, "a string is not closed before the end of its line"),
        ("[daemon]\r\ncontrol_socket = 'abc\r\n", 22, "a string is not closed before the end of its line"),
        ("[daemon]\nmode = \"enforce", 16, "a string is not closed before the end of the file"),
        ("[daemon]\ncontrol_socket = \"\"\"abc\n", 25, "a string is not closed before the end of the file"),
        ("[daemon]\nmode = \"enf\u{1}orce\"\n", 12, "Error while parsing string: unescaped control characters"),
    ])
    func aStringLeftOpenIsNamedSo(text: String, column: Int, message: String) {
        let found = errors(text)
        guard case .syntax(_, let line, let foundColumn, let foundMessage) = found.first, found.count == 1 else {
            Issue.record("not one syntax error: \(found)")
            return
        }
        #expect(line == 2)
        #expect(foundColumn == column)
        #expect(foundMessage.hasPrefix(message), "\(foundMessage)")
    }

    @Test func syntaxErrorsCarryLineAndColumn() {
        let found = errors("[daemon]\nqueues = \"0-1\"\nmode = enforce\n")
        #expect(found.count == 1)
        guard case .syntax(let file, let line, let column, _) = found.first else {
            Issue.record("not a syntax error: \(found)")
            return
        }
        #expect(file == "test.toml")
        #expect(line == 3)
        #expect(column > 1)
        #expect(found[0].description.hasPrefix("test.toml:3:"))
    }

    @Test func valuesThatWouldStopTrafficOrTheDaemonAreRefused() {
        let found = errors(
            """
            [daemon]
            queues = "0-200"
            [limits]
            good_source_factor = 0.5
            [limits.invite]
            source = "0/s"
            prefix_burst = 0
            [score]
            drop_at = 0
            ban_at = 0.5
            """)
        #expect(
            found == [
                .badValue(
                    file: "test.toml", line: 2, key: "daemon.queues", value: "\"0-200\"",
                    expected: "a queue number or range like \"0-3\", of at most 128 queues"),
                .badValue(
                    file: "test.toml", line: 4, key: "limits.good_source_factor", value: "0.5",
                    expected: "a number from 1 to 1000000000"),
                .badValue(
                    file: "test.toml", line: 6, key: "limits.invite.source", value: "\"0/s\"",
                    expected: "a rate above zero"),
                .badValue(
                    file: "test.toml", line: 7, key: "limits.invite.prefix_burst", value: "0",
                    expected: "a number from 1 to 1000000000"),
                // A score of 0 is every source's: a threshold there drops or bans them all.
                .badValue(
                    file: "test.toml", line: 9, key: "score.drop_at", value: "0",
                    expected: "a number from 1 to 1000000000"),
                .badValue(
                    file: "test.toml", line: 10, key: "score.ban_at", value: "0.5",
                    expected: "a number from 1 to 1000000000"),
            ])
        // Thresholds that cross are an error of the rules as merged: one file may set each.
        var rules = RuleSet()
        #expect(throws: Never.self) { try rules.apply(toml: "[score]\ndrop_at = 150\n", file: "main.toml") }
        #expect(
            rules.mergedErrors(file: "main.toml") == [
                .badValue(
                    file: "main.toml", key: "score.drop_at", value: "150",
                    expected: "at most score.ban_at (100) in the rules of every file together")
            ])
        #expect(throws: Never.self) { try rules.apply(toml: "[score]\nban_at = 300\n", file: "site.toml") }
        #expect(rules.mergedErrors(file: "main.toml").isEmpty)
    }

    /// Values a rule file may write but nothing can hold: scores past a billion (a ban's logged score
    /// would not fit an integer, a sum of them could reach infinity), durations past ten years (added
    /// to a clock they overflow), a ban past ipset's longest timeout, more ban classes than the packet
    /// mark has bits for. Each used to stop the process or give a firewall that does not load.
    @Test func valuesPastWhatTheEngineOrTheKernelHoldsAreRefused() {
        let ttls = (1...128).map { "\"\($0)m\"" }.joined(separator: ", ")
        let found = errors(
            """
            [score]
            drop_at = 1.7e308
            half_life = "3651d"
            [score.points]
            scanner_user_agent = 1e19
            [bans]
            ttl = ["1h", "25d", "1.5m", "2500ms"]
            """)
        #expect(
            found.map(\.description) == [
                "test.toml:2: score.drop_at = 1.7e+308: expected a number from 1 to 1000000000",
                "test.toml:3: score.half_life = \"3651d\": expected at most \"3650d\"",
                "test.toml:5: score.points.scanner_user_agent = 1e+19: expected a number from 0 to 1000000000",
                "test.toml:7: bans.ttl[1] = \"25d\": expected at most \"2147483s\" (ipset's longest timeout)",
                "test.toml:7: bans.ttl[3] = \"2500ms\": expected whole seconds (the kernel's ban sets count their "
                    + "timeouts in seconds)",
            ])
        #expect(
            errors("[firewall]\ntcp_connections = \"2000000/s\"\n").map(\.description) == [
                "test.toml:2: firewall.tcp_connections = 2000000/s burst 40: expected at most 1000000/s with a burst "
                    + "of at most 1000000 (iptables hashlimit's most)"
            ])
        #expect(
            errors("[bans]\nttl = [\(ttls)]\n") == [
                .badValue(
                    file: "test.toml", line: 2, key: "bans.ttl", value: "128 durations",
                    expected: "at most 127 (a ban class is 7 bits of the packet mark)")
            ])
    }

    @Test func everySemanticErrorIsReportedAtOnce() {
        let found = errors(
            """
            [daemon]
            queues = "3-1"
            mode = "enforcing"
            [ports]
            sip_udp = [0, 5060, 70000]
            [trust]
            alow = ["192.0.2.0/24"]
            deny = ["192.0.2.0/33"]
            """)
        #expect(
            found == [
                .badValue(
                    file: "test.toml", line: 2, key: "daemon.queues", value: "\"3-1\"",
                    expected: "a queue number or range like \"0-3\", of at most 128 queues"),
                .badValue(
                    file: "test.toml", line: 3, key: "daemon.mode", value: "\"enforcing\"",
                    expected: "\"enforce\" or \"monitor\""),
                .badValue(
                    file: "test.toml", line: 5, key: "ports.sip_udp[0]", value: "0", expected: "a port from 1 to 65535"),
                .badValue(
                    file: "test.toml", line: 5, key: "ports.sip_udp[2]", value: "70000",
                    expected: "a port from 1 to 65535"),
                .unknownKey(file: "test.toml", line: 7, key: "trust.alow", suggestions: ["trust.allow"]),
                .badValue(
                    file: "test.toml", line: 8, key: "trust.deny[0]", value: "\"192.0.2.0/33\"",
                    expected: "an IPv4 or IPv6 address or CIDR block such as \"192.0.2.0/24\""),
            ])
        // A name written without its qualifier is taken for every key it ends.
        let burst = errors("[limits.invite]\nburst = 10\n")
        #expect(
            burst == [
                .unknownKey(
                    file: "test.toml", line: 2, key: "limits.invite.burst",
                    suggestions: [
                        "limits.invite.source_burst", "limits.invite.prefix_burst", "limits.invite.global_burst",
                    ])
            ])
        #expect(
            burst.first?.description == "test.toml:2: unknown key 'limits.invite.burst' (did you mean "
                + "'limits.invite.source_burst', 'limits.invite.prefix_burst' or 'limits.invite.global_burst'?)")
        #expect(
            errors("[trust]\nalow = []\n").first?.description
                == "test.toml:2: unknown key 'trust.alow' (did you mean 'trust.allow'?)")
    }

    /// Numbers are written as people write them (separators allowed); anything else is an error.
    @Test func tollFraudNumbersAreChecked() throws {
        let found = errors(
            """
            [toll_fraud]
            high_risk_prefixes = ["+", "00", "9 011", "international"]
            domestic_prefixes = ["+1", "US"]
            own_numbers = ["+44 (20) 7946-0001", "+44-20-7946-0002;isub=1"]
            """)
        let expected = "a number or prefix such as \"+4420794600\" or \"011\" (digits after an optional \"+\")"
        #expect(
            found == [
                .badValue(
                    file: "test.toml", line: 2, key: "toll_fraud.high_risk_prefixes[3]", value: "\"international\"",
                    expected: expected),
                .badValue(
                    file: "test.toml", line: 3, key: "toll_fraud.domestic_prefixes[1]", value: "\"US\"",
                    expected: expected),
                .badValue(
                    file: "test.toml", line: 4, key: "toll_fraud.own_numbers[1]", value: "\"+44-20-7946-0002;isub=1\"",
                    expected: expected),
            ])
        let rules = try RuleSet(
            toml: "[toll_fraud]\nhigh_risk_prefixes = [\"+\", \"9 011\"]\ndomestic_prefixes = [\"+1\"]\n",
            file: "site.toml")
        #expect(rules.tollFraud.highRiskPrefixes == ["+", "9 011"])
        #expect(rules.tollFraud.domesticPrefixes == ["+1"])
    }

    @Test func firewallKeysAreRead() throws {
        let rules = try RuleSet(
            toml: """
                [firewall]
                role = "gateway"
                default = "reject"
                fail_open = false
                queue_trusted = true
                admin_networks = ["198.51.100.0/28"]
                admin_ports = [22, 2222]
                allow_no_admin = true
                proxies = ["192.0.2.10", "2001:db8::10"]
                websocket_ports = [8088]
                media_ports = "30000-40000"
                media_peers = ["192.0.2.0/24"]
                tcp_connections = "300/min"
                tcp_connections_burst = 10
                outbound = "restrict"
                """, file: "site.toml")
        let firewall = rules.firewall
        #expect(firewall.role == .gateway)
        #expect(firewall.defaultAction == .reject)
        #expect(!firewall.failOpen)
        #expect(firewall.queueTrusted)
        #expect(firewall.adminNetworks == [IPPrefix("198.51.100.0/28")!])
        #expect(firewall.adminPorts == [22, 2222])
        #expect(firewall.allowNoAdmin)
        #expect(firewall.proxies == [IPPrefix("192.0.2.10")!, IPPrefix("2001:db8::10")!])
        #expect(firewall.websocketPorts == [8088])
        #expect(firewall.mediaPorts == 30000...40000)
        #expect(firewall.mediaPeers == [IPPrefix("192.0.2.0/24")!])
        #expect(firewall.tcpConnections == Rate(perSecond: 5, burst: 10))
        #expect(firewall.outbound == .restrict)
        #expect(RuleSet().firewall.adminNetworks == [IPPrefix("0.0.0.0/0")!, IPPrefix("::/0")!])
    }

    @Test func badFirewallValuesNameTheirKeyPath() {
        let found = errors(
            """
            [firewall]
            role = "router"
            default = "ignore"
            fail_open = "yes"
            admin_networks = ["10.0.0.0/8", "admins"]
            admin_ports = [22, 0]
            proxies = "192.0.2.10"
            media_ports = "20000-10000"
            tcp_connections = "0/s"
            outbound = "none"
            admin_network = []
            """)
        let expected: [RulesError] = [
            .badValue(
                file: "test.toml", line: 2, key: "firewall.role", value: "\"router\"",
                expected: "\"proxy\" or \"pbx\" or \"gateway\" or \"media\""),
            .badValue(
                file: "test.toml", line: 3, key: "firewall.default", value: "\"ignore\"",
                expected: "\"drop\" or \"reject\""),
            .badValue(
                file: "test.toml", line: 4, key: "firewall.fail_open", value: "\"yes\"", expected: "true or false"),
            .badValue(
                file: "test.toml", line: 5, key: "firewall.admin_networks[1]", value: "\"admins\"",
                expected: "an IPv4 or IPv6 address or CIDR block such as \"192.0.2.0/24\""),
            .badValue(
                file: "test.toml", line: 6, key: "firewall.admin_ports[1]", value: "0",
                expected: "a port from 1 to 65535"),
            .badValue(
                file: "test.toml", line: 7, key: "firewall.proxies", value: "\"192.0.2.10\"",
                expected: "an array of CIDR strings"),
            .badValue(
                file: "test.toml", line: 8, key: "firewall.media_ports", value: "\"20000-10000\"",
                expected: "a port range like \"10000-20000\""),
            .badValue(
                file: "test.toml", line: 9, key: "firewall.tcp_connections", value: "\"0/s\"",
                expected: "a rate above zero"),
            .badValue(
                file: "test.toml", line: 10, key: "firewall.outbound", value: "\"none\"",
                expected: "\"accept\" or \"restrict\""),
            .unknownKey(
                file: "test.toml", line: 11, key: "firewall.admin_network", suggestions: ["firewall.admin_networks"]),
        ]
        #expect(found == expected)
    }

    /// Text on which the TOML parser would stop the process (an assertion inside toml++ 3.4) is a
    /// syntax error at its place; strings, comments and nested arrays that only look like it are not.
    @Test(arguments: [
        ("[ # a comment\n", 1, 3), ("[daemon]\n  [[\n", 2, 5), ("[[[x]]]\n", 1, 3), ("[=\n", 1, 2),
        ("\u{FEFF}[\r\n", 1, 2), ("a = [}]\n", 1, 6), ("a = [1,\n  # c\n  }]\n", 3, 3),
        ("a = {b = [}]}\n", 1, 11), ("a = \"\"\"\nx\"\"\"\n[ #\n", 3, 3), ("a = [\u{2028}]\n", 1, 6),
        ("a = [1,\u{85}]\n", 1, 8), ("a = 2000-01-01 1\n", 1, 5), ("a = [1-34-67-90 1]\n", 1, 6),
        ("a = 2_000-01-01 1\n", 1, 5), ("a = 2000-01-01T:\n", 1, 5), ("x = 1\na = 'b\0'\n[ #\n", 2, 7),
        ("\"\\u0000\" = 1\n", 1, 2), ("a = \"\"\"\nx\\U00000000\"\"\"\n", 2, 2),
        (Array(repeating: "a", count: 30000).joined(separator: ".") + " = 1\n", 1, 200),
        ("[" + Array(repeating: "b", count: 101).joined(separator: ".") + "]\n", 1, 201),
    ])
    func textThatWouldStopTheParserIsASyntaxError(text: String, line: Int, column: Int) {
        let found = errors(text)
        guard found.count == 1, case .syntax(_, line, column, _) = found[0] else {
            Issue.record("\(found) for \(text.debugDescription)")
            return
        }
    }

    @Test(arguments: [
        "a = \"[}\"\n", "a = '[ #'\nb = 1\n", "a = \"\"\"\n[ # in a string\n\"\"\"\n", "a = '''\n[ #\n''''\n",
        "a = \"x\\\" [ }\"\n", "a = [\n  [ # nested\n    1 ],\n]\n", "a = [ { }, ]\n", "a = \"\" # [\n[b]\n",
        "[ 'x' ]\n", "[\"y\"]\n", "[ z ]\n", "a = {b = 1}\n[c]\n", "a = \"\u{2028}\" # \u{2029}\n",
        "a = 2000-01-01 12:00:00\n", "a = [2000-01-01T12:00:00Z, 2000-01-01]\n", "a = 2000-01-01 # 1\n",
        "a = \"2000-01-01 1\"\n", "a = 2000-01-01\n", "a = 20-00-01-01 1\n", "a = '\\u0000'\n", "a = \"\\\\u0000\"\n",
        "x.y.z = 1.5\n[a.b.c]\nd = [1.5, 2.5]\n",
    ])
    func textThatOnlyLooksLikeAParserTrapIsNotOne(text: String) {
        #expect(ParserTraps.first(in: text) == nil, "\(text.debugDescription)")
    }

    /// TOML is UTF-8: a byte that is not (a Latin-1 `é`) is a syntax error at its place, not a
    /// character silently replaced.
    @Test func bytesThatAreNotUTF8AreASyntaxErrorAtTheirPlace() {
        var rules = RuleSet()
        let latin1 = Array("[signatures]\nuser_agents = [\"Fritz!Box \"]\n".utf8)
        var bytes = latin1
        bytes.insert(0xE9, at: latin1.count - 4)
        #expect(throws: RulesErrors([.syntax(file: "t.toml", line: 2, column: 26, message: "not UTF-8 (byte 0xE9)")])) {
            try rules.apply(toml: bytes, file: "t.toml")
        }
        #expect(throws: Never.self) { try rules.apply(toml: Array("# é ✓\n".utf8), file: "t.toml") }
    }

    /// Each semantic error names the line its key is on, however the file writes the key: in a table
    /// header, dotted, quoted, in an inline table, an array's element on a line of its own, after
    /// multi-line strings and comments that look like keys; CRLF line ends and a byte-order mark too.
    @Test func semanticErrorsNameTheLineOfTheirKey() {
        let text = """
            \u{FEFF}# [daemon] queues = "x" in a comment
            [signatures]
            user_agents = [\"\"\"
            a = 1
            [b]\"\"\", 'c = [2]']
            [ limits . "invite" ]
            source = "1/s"   # fine
            prefix = "1/x"
            [ports]
            sip_udp = [
              5060,
              # 0,
              70000,
            ]
            [score]
            points = { scanner_user_agent = 1, malformed = -1 }
            [enumeration]
            "window" = "5q"
            [bans.ttl]
            """
        let expected = [
            "test.toml:8: limits.invite.prefix = \"1/x\": expected a rate like \"20/s\", \"300/min\" or \"1000/h\"",
            "test.toml:13: ports.sip_udp[1] = 70000: expected a port from 1 to 65535",
            "test.toml:16: score.points.malformed = -1: expected a number from 0 to 1000000000",
            "test.toml:18: enumeration.window = \"5q\": expected a duration like \"30s\", \"10m\", \"2h\" or \"1d\"",
            "test.toml:19: bans.ttl = {...}: expected an array of durations",
        ]
        #expect(errors(text).map(\.description) == expected)
        #expect(errors(text.replacingOccurrences(of: "\n", with: "\r\n")).map(\.description) == expected)
        // A quoted key with escapes, each table of an array of tables, a burst over its most, a string
        // with a line break shown on one line.
        let cidr = "an IPv4 or IPv6 address or CIDR block such as \"192.0.2.0/24\""
        #expect(
            errors("[daemon]\n\n\"caf\\u00e9\" = 1\n[[trust.allow]]\n\n[[trust.allow]]\n").map(\.description) == [
                "test.toml:3: unknown key 'daemon.café'",
                "test.toml:4: trust.allow[0] = {...}: expected \(cidr)",
                "test.toml:6: trust.allow[1] = {...}: expected \(cidr)",
            ])
        #expect(
            errors("[firewall]\n\ntcp_connections_burst = 2000000\n").first?.description.hasPrefix(
                "test.toml:3: firewall.tcp_connections_burst = 20/s burst 2000000: expected at most") == true)
        #expect(
            errors("[daemon]\nmode = \"\"\"\nlo\nud\"\"\"\n").map(\.description) == [
                "test.toml:2: daemon.mode = \"lo\\nud\": expected \"enforce\" or \"monitor\""
            ])
        // Thresholds that cross belong to the rules as merged, not to a line.
        var rules = RuleSet()
        #expect(throws: Never.self) { try rules.apply(toml: "[score]\ndrop_at = 150\n", file: "m.toml") }
        #expect(rules.mergedErrors(file: "m.toml").map(\.line) == [nil])
    }

    /// A name far from every known one gets no suggestion; a typo of one gets that one.
    @Test func onlyCloseNamesAreSuggested() {
        #expect(
            errors("[limits.invite]\nfoo = 1\n").map(\.description) == ["test.toml:2: unknown key 'limits.invite.foo'"])
        #expect(
            errors("[score]\ndropat = 1\n").map(\.description)
                == ["test.toml:2: unknown key 'score.dropat' (did you mean 'score.drop_at'?)"])
        #expect(
            errors("[daemon]\nmdoe = 1\n").map(\.description)
                == ["test.toml:2: unknown key 'daemon.mdoe' (did you mean 'daemon.mode'?)"])
    }

    @Test func unknownSectionsWithoutAnyCloseName() {
        #expect(
            errors("[zzzzzzzzzz]\nx = 1\n") == [
                .unknownKey(file: "test.toml", line: 1, key: "zzzzzzzzzz", suggestions: [])
            ])
    }

    @Test func aBadFileLeavesTheRulesAsTheyWere() throws {
        var rules = RuleSet()
        rules.daemon.mode = .monitor
        #expect(throws: RulesErrors.self) {
            try rules.apply(toml: "[daemon]\nmode = \"enforce\"\nqueues = \"x\"\n", file: "bad.toml")
        }
        #expect(rules.daemon.mode == .monitor)
    }

    @Test func daemonKeysAreRead() throws {
        let rules = try RuleSet(
            toml: """
                [daemon]
                copy_range = 2048
                queue_length = 1024
                queue_full = "drop"
                batch = 32
                batch_wait_us = 0
                receive_buffer_mib = 4
                control_socket = "/tmp/swd/control.sock"
                metrics = "[::1]:9100"
                state_file = "/tmp/swd/sources"
                """, file: "site.toml")
        #expect(rules.daemon.copyRange == 2048)
        #expect(rules.daemon.queueLength == 1024)
        #expect(rules.daemon.queueFull == .drop)
        #expect(rules.daemon.batch == 32)
        #expect(rules.daemon.batchWaitMicroseconds == 0)
        #expect(rules.daemon.receiveBufferMiB == 4)
        #expect(rules.daemon.controlSocket == "/tmp/swd/control.sock")
        #expect(rules.daemon.metrics == RuleSet.Endpoint(address: IPAddress("::1")!, port: 9100))
        #expect(rules.daemon.metrics?.description == "[::1]:9100")
        #expect(rules.daemon.stateFile == "/tmp/swd/sources")
    }

    @Test func theBatchWaitIsAMillisecondUnlessSet() throws {
        #expect(RuleSet().daemon.batchWaitMicroseconds == 1000)
        #expect(
            try RuleSet(toml: "[daemon]\nbatch_wait_us = 250\n", file: "site.toml").daemon.batchWaitMicroseconds == 250)
    }

    /// The queue's thread waits after a batch that did not fill when it held more than one packet or
    /// the thread waited less than the pause (1 ms) for it: steady traffic. A lone packet after a longer
    /// idle time (light traffic) and a full batch (more already waiting) are followed by the next
    /// receive at once, and `batch_wait_us = 0` never waits.
    @Test(arguments: [
        (1, 5_000_000, false), (1, 1_000_000, false), (1, 999_999, true), (1, 200_000, true),
        (2, 5_000_000, true), (63, 5_000_000, true), (64, 5_000_000, false), (64, 200_000, false),
    ])
    func theBatchWaitFollowsSteadyTraffic(count: Int, idle: Int64, waits: Bool) {
        #expect(RuleSet().daemon.waitsAfter(batchOf: count, idle: idle) == waits)
        var never = RuleSet().daemon
        never.batchWaitMicroseconds = 0
        #expect(!never.waitsAfter(batchOf: count, idle: idle))
    }

    @Test func anEmptyStateFileKeepsNothing() throws {
        #expect(try RuleSet(toml: "[daemon]\nstate_file = \"\"\n", file: "site.toml").daemon.stateFile == nil)
        #expect(RuleSet().daemon.stateFile == "/var/lib/sipwarden/sources")
    }

    @Test func anEmptyMetricsAddressDisablesMetrics() throws {
        #expect(try RuleSet(toml: "[daemon]\nmetrics = \"\"\n", file: "site.toml").daemon.metrics == nil)
        #expect(RuleSet().daemon.metrics?.description == "127.0.0.1:9595")
    }

    /// One account's standing is held by 1 to 8 addresses (an account's slots hold eight), and a spray
    /// counted up to 300 accounts (past that, 256 bits estimate no better than a coin).
    @Test func standingKeysKeepToWhatTheirCountsCanHold() {
        let found = errors(
            """
            [guessing]
            account_addresses = 9
            spray_accounts = 301
            """)
        #expect(
            found == [
                .badValue(
                    file: "test.toml", line: 2, key: "guessing.account_addresses", value: "9",
                    expected: "a whole number from 1 to 8"),
                .badValue(
                    file: "test.toml", line: 3, key: "guessing.spray_accounts", value: "301",
                    expected: "a whole number from 1 to 300"),
            ])
    }

    @Test func badDaemonKeysNameTheirKeyPath() {
        let found = errors(
            """
            [daemon]
            copy_range = 64
            queue_full = "maybe"
            batch = 0
            batch_wait_us = 20000
            control_socket = "run/control.sock"
            metrics = "0.0.0.0:9595"
            state_file = "var/lib/sipwarden/sources"
            """)
        #expect(
            found == [
                .badValue(
                    file: "test.toml", line: 2, key: "daemon.copy_range", value: "64",
                    expected: "a whole number from 128 to 65535"),
                .badValue(
                    file: "test.toml", line: 3, key: "daemon.queue_full", value: "\"maybe\"",
                    expected: "\"accept\" or \"drop\""),
                .badValue(
                    file: "test.toml", line: 4, key: "daemon.batch", value: "0",
                    expected: "a whole number from 1 to 1024"),
                .badValue(
                    file: "test.toml", line: 5, key: "daemon.batch_wait_us", value: "20000",
                    expected: "a whole number from 0 to 10000"),
                .badValue(
                    file: "test.toml", line: 6, key: "daemon.control_socket", value: "\"run/control.sock\"",
                    expected: "an absolute path shorter than 108 bytes"),
                .badValue(
                    file: "test.toml", line: 7, key: "daemon.metrics", value: "\"0.0.0.0:9595\"",
                    expected: "a loopback address and port like \"127.0.0.1:9595\" or \"[::1]:9595\", or \"\" for none"),
                .badValue(
                    file: "test.toml", line: 8, key: "daemon.state_file", value: "\"var/lib/sipwarden/sources\"",
                    expected: "an absolute file path, or \"\" for none"),
            ])
    }
}
