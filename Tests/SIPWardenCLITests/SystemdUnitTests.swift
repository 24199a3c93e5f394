import Foundation
import Testing

/// The shipped systemd units, installed by scripts/install into a scratch prefix, pass
/// `systemd-analyze verify` without a single warning.
@Suite struct SystemdUnitTests {
    static let analyze = "/usr/bin/systemd-analyze"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: analyze), "needs systemd-analyze"))
    func theInstalledUnitsVerifyCleanly() throws {
        let prefix = NSTemporaryDirectory() + "swd-install-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let install = Process()
        install.executableURL = CLITests.repository.appendingPathComponent("scripts/install")
        install.environment = ProcessInfo.processInfo.environment.merging([
            "SIPWARDEN_BINARY": CLITests.binary.path, "PREFIX": prefix, "SYSCONFDIR": prefix + "/etc",
            "UNITDIR": prefix + "/units",
        ]) { $1 }
        install.standardOutput = FileHandle.nullDevice
        try install.run()
        install.waitUntilExit()
        #expect(install.terminationStatus == 0)
        let unit = try String(contentsOfFile: prefix + "/units/sipwarden.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=\(prefix)/bin/sipwarden run --config"))
        #expect(["@BINDIR@", "@LIBEXECDIR@", "@DOCDIR@", "@SYSCONFDIR@"].allSatisfy { !unit.contains($0) })

        let firewall = try String(contentsOfFile: prefix + "/units/sipwarden-firewall.service", encoding: .utf8)
        #expect(firewall.contains("ExecStart=\(prefix)/libexec/sipwarden/load-firewall"))
        #expect(firewall.contains("Before=network-pre.target"))

        let verify = Process()
        verify.executableURL = URL(fileURLWithPath: Self.analyze)
        verify.arguments = [
            "verify", prefix + "/units/sipwarden.service", prefix + "/units/sipwarden-firewall.service",
        ]
        let output = Pipe()
        verify.standardOutput = output
        verify.standardError = output
        try verify.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        verify.waitUntilExit()
        #expect(verify.terminationStatus == 0)
        #expect(text.isEmpty, "systemd-analyze: \(text)")
    }
}
