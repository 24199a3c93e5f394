import Foundation
import SIPWardenTestSupport
import Testing

/// The README's quick start runs `scripts/try-inline`: what it shows must stay true.
@Suite(.serialized, .enabled(if: TestNetwork.isAvailable, "needs root, ip, iptables, ipset and sipp"))
struct TryInlineTests {
    static let script: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().appendingPathComponent("scripts/try-inline").path
    }()

    @Test func theDemoBansTheFlooderInTheKernelWhileThePhoneKeepsCalling() throws {
        let result = try Subprocess.run(Self.script, [], environment: ["SIPWARDEN": LiveDaemon.binary], timeout: 90)
        #expect(result.status == 0, "\(result.stderr.suffix(600))")
        let output = result.stdout
        #expect(output.contains("sipwarden ban src=10.79.0.66 mode=enforce"))
        #expect(output.components(separatedBy: "10 calls from the phone 10.79.0.2: all completed").count == 3)
        #expect(output.contains("10.79.0.66 timeout"), "the flooder is in the kernel set sipwarden-v4-c1")
        #expect(output.contains("unbanned 10.79.0.66: 1 ban, 1 engine entry, kernel: sipwarden-v4-c1"))
        #expect(!output.hasSuffix("10.79.0.66 timeout"), "the ban set is empty after the unban")
    }
}
