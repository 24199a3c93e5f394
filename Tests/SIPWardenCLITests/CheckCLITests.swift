import Foundation
import SIPWardenTestSupport
import Testing

/// `sipwarden check`: every error of every file at once, each file read once, a summary and warnings.
@Suite struct CheckCLITests {
    /// A fresh directory with `files` (name → text) written in it.
    static func directory(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swd-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: folder.appendingPathComponent(name)) }
        return folder
    }

    @Test func everyErrorOfEveryFileIsReportedWithTheFileThatIncludesAMissingOne() throws {
        let folder = try Self.directory([
            "main.toml": "include = [\"site.toml\", \"missing.toml\"]\n",
            "site.toml": "[limits.invite]\nsource_burst = 0\n",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let main = folder.appendingPathComponent("main.toml").path
        let run = try CLITests.run(["check", "--config", main])
        #expect(run.status == 1)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "sipwarden: \(folder.path)/site.toml:2: limits.invite.source_burst = 0: expected a number from 1 to 1000000000",
                "sipwarden: \(folder.path)/missing.toml: cannot read rule file: No such file or directory "
                    + "(included by \(main))",
                "sipwarden: 2 errors in the rules",
            ])
    }

    /// A file with errors of its own still has its includes read: their errors come in the same run,
    /// not one fix later.
    @Test func theIncludesOfAFileWithErrorsAreReadAllTheSame() throws {
        let folder = try Self.directory([
            "main.toml": "include = [\"site.toml\", \"missing.toml\"]\n[daemon]\nmode = \"loud\"\n",
            "site.toml": "[score]\nban_at = \"x\"\n",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let main = folder.appendingPathComponent("main.toml").path
        let run = try CLITests.run(["check", "--config", main])
        #expect(run.status == 1)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(run.stderr)")
        #expect(lines.first?.hasPrefix("sipwarden: \(main):3: daemon.mode = \"loud\": expected ") == true)
        #expect(lines.dropFirst().first?.hasPrefix("sipwarden: \(folder.path)/site.toml:2: score.ban_at = ") == true)
        #expect(
            lines.dropFirst(2).first
                == "sipwarden: \(folder.path)/missing.toml: cannot read rule file: No such file or directory "
                + "(included by \(main))")
        #expect(lines.last == "sipwarden: 3 errors in the rules")
    }

    /// A table header without a name used to stop `check` (and a reloading daemon) on an assertion
    /// inside the TOML parser: it is a syntax error at its line and column.
    @Test func aTableHeaderWithoutANameIsASyntaxError() throws {
        let folder = try Self.directory(["main.toml": "[daemon]\nmode = \"enforce\"\n  [ # ports next\n"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try CLITests.run(["check", "--config", folder.appendingPathComponent("main.toml").path])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("sipwarden: \(folder.path)/main.toml:3:5: expected a table name"), "\(run.stderr)")
    }

    /// A FIFO or a device named as a rule file (an include of `/dev/zero`, a FIFO in conf.d) is an error,
    /// not a read that never ends.
    @Test func onlyRegularFilesAreRuleFiles() throws {
        let folder = try Self.directory(["main.toml": "include = [\"/dev/zero\"]\n"])
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("conf.d"), withIntermediateDirectories: true)
        let fifo = folder.appendingPathComponent("conf.d/site.toml").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let run = try CLITests.run(["check", "--config", folder.appendingPathComponent("main.toml").path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("sipwarden: /dev/zero: cannot read rule file: not a regular file (included by "))
        #expect(run.stderr.contains("sipwarden: \(fifo): cannot read rule file: not a regular file"), "\(run.stderr)")
    }

    /// Tables (allocated whole at start) that need more memory than the host has are refused with the
    /// numbers, instead of an allocation that stops the process without a word.
    @Test func tablesLargerThanTheHostsMemoryAreRefused() throws {
        let sizes = ["sources", "prefixes", "users", "nonces"].map { "\($0) = 67108864" }.joined(separator: "\n")
        let folder = try Self.directory(["main.toml": "[tables]\n\(sizes)\n"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("main.toml").path
        let run = try CLITests.run(["replay", "--config", config, "Examples/mixed.pcap"])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("sipwarden: the tables need 69125 MiB, more than this host's "), "\(run.stderr)")
    }

    @Test func thresholdsAreCheckedOnTheRulesOfEveryFileTogether() throws {
        let folder = try Self.directory(["main.toml": "[score]\ndrop_at = 150\n"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let main = folder.appendingPathComponent("main.toml").path
        let alone = try CLITests.run(["check", "--config", main])
        #expect(alone.status == 1)
        #expect(alone.stderr.contains("\(main): score.drop_at = 150: expected at most score.ban_at (100)"))
        let dropIns = folder.appendingPathComponent("conf.d")
        try FileManager.default.createDirectory(at: dropIns, withIntermediateDirectories: true)
        try Data("[score]\nban_at = 300\n".utf8).write(to: dropIns.appendingPathComponent("site.toml"))
        #expect(try CLITests.run(["check", "--config", main]).status == 0)
    }

    @Test func eachFileIsReadOnceHoweverAnIncludeSpellsIt() throws {
        let folder = try Self.directory(["a.toml": "include = [\"b.toml\"]\n[trust]\nallow = [\"192.0.2.0/24\"]\n"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let again = "include = [\"../\(folder.lastPathComponent)/a.toml\", \"./a.toml\"]\n"
        try Data(again.utf8).write(to: folder.appendingPathComponent("b.toml"))
        let run = try CLITests.run(["check", "--config", folder.appendingPathComponent("a.toml").path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("rules OK: \(folder.path)/a.toml, \(folder.path)/b.toml\n"))
    }

    @Test func theSummaryGivesTheTablesMemoryAndWarnsOfSurprises() throws {
        let shipped = try CLITests.run(["check", "--config", "Rules/sipwarden.toml"])
        #expect(shipped.status == 0)
        #expect(shipped.stdout.contains("trust            allowed none, denied none"))
        #expect(
            shipped.stdout.contains(
                "enumeration      per 1m: 20 users, 6 sequential, 10 404s; 30 404s per prefix; "
                    + "registration grace for 64 users"))
        #expect(
            shipped.stdout.contains(
                "guessing         20 failures from 4 sources per 5m; an office's free failures 30/min burst 30 "
                    + "for 32 new accounts; one account's standing held by its latest 4 addresses, spent past "
                    + "100 missed accounts; foreign nonces refused past 32"))
        #expect(shipped.stdout.contains("control /run/sipwarden/control.sock, metrics 127.0.0.1:9595"))
        let tables = try #require(shipped.stdout.split(separator: "\n").first { $0.hasPrefix("tables") })
        #expect(
            tables.hasSuffix(
                "MiB, and at most 309 MiB of TCP streams (waiting messages, bytes the server has not acknowledged), "
                    + "for 2 queues"),
            "\(tables)")
        #expect(shipped.stderr.contains("warning: trust.allow and toll_fraud.own_numbers are empty"))
        #expect(!shipped.stderr.contains("MemoryMax"))

        let folder = try Self.directory([
            "big.toml": "[trust]\nallow = [\"192.0.2.0/24\"]\n[tables]\nsources = 4194304\n"
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let big = try CLITests.run(["check", "--config", folder.appendingPathComponent("big.toml").path])
        #expect(big.status == 0)
        #expect(!big.stderr.contains("trust.allow"))
        #expect(big.stderr.contains("more than the 512 MiB the shipped unit allows (MemoryMax in sipwarden.service)"))
    }

    /// Rules that work against themselves: an allowed block the deny list swallows, and rules the
    /// firewall generator would refuse (here: SSH denied from the only admin network).
    @Test func warnsOfTrustThatDenyOverridesAndOfAFirewallThatWouldBeRefused() throws {
        let folder = try Self.directory([
            "odd.toml": """
            [trust]
            allow = ["10.1.2.3", "192.0.2.0/24", "10.0.0.0/8"]
            deny = ["10.0.0.0/8", "192.0.2.128/25"]
            [firewall]
            admin_networks = ["10.20.0.0/16"]

            """
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try CLITests.run(["check", "--config", folder.appendingPathComponent("odd.toml").path])
        #expect(run.status == 0)
        let warnings = run.stderr.split(separator: "\n").filter { !$0.contains("toll_fraud") }.map(String.init)
        let swallowed = ["10.1.2.3/32", "10.0.0.0/8"].map {
            "sipwarden: warning: trust.allow has \($0), inside trust.deny 10.0.0.0/8: deny is checked first, so it is "
                + "dropped"
        }
        let refused: String =
            "sipwarden: warning: `sipwarden firewall` refuses these rules: trust.deny has 10.0.0.0/8, which "
            + "covers firewall.admin_networks 10.20.0.0/16: denied sources are dropped before the admin "
            + "ports, and loading this firewall would lock you out from there; narrow trust.deny or remove that "
            + "admin network, or set firewall.allow_no_admin = true for console-only hosts"
        #expect(warnings == swallowed + [refused])
    }

    /// Admin networks narrowed, yet not trusted: a ban at the admins' address (a phone behind the same NAT)
    /// would take their SSH with it. Trusted, or left at anywhere (the shipped default), no warning.
    @Test func warnsOfAdminNetworksABanCouldShutOut() throws {
        let folder = try Self.directory([
            "admins.toml": """
            [trust]
            allow = ["192.0.2.0/24"]
            [firewall]
            admin_networks = ["198.51.100.0/28", "192.0.2.64/26", "::/0"]

            """
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try CLITests.run(["check", "--config", folder.appendingPathComponent("admins.toml").path])
        #expect(run.status == 0)
        let expected: String =
            "sipwarden: warning: firewall.admin_networks 198.51.100.0/28 is not in trust.allow: banned sources "
            + "are dropped before the admin ports, so a SIP source banned at the admins' address (a phone "
            + "behind the same NAT) or in its /24 or /64 locks them out for the ban's time; list the admin "
            + "networks in trust.allow too"
        let warnings = run.stderr.split(separator: "\n").filter { $0.contains("admin_networks") }.map(String.init)
        #expect(warnings == [expected])
    }
}
