import Foundation
import SIPWardenCore

/// Lifts bans from the kernel ban sets the firewall fills (ipset for the iptables flavours, nft sets in
/// table `inet sipwarden` for the nft flavour) by running the commands `BanSets.unbanCommands` gives,
/// the one place set names and unban commands are defined.
public struct KernelBanSets: Sendable {
    public let sets: BanSets
    /// Where `ipset` and `nft` are looked for.
    let searchPath: [String]

    public init(_ sets: BanSets, searchPath: [String] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
        self.sets = sets
        self.searchPath = searchPath
    }

    /// Deletes each target (an address, or a /24 or /64) from the sets of every flavour loaded; returns
    /// the sets an entry was deleted from. A flavour whose tool or sets are missing is skipped.
    public func remove(_ targets: [IPPrefix]) -> [String] {
        var removedFrom: [String] = []
        for target in Set(targets) {
            if let ipset = tool("ipset") {
                for command in sets.unbanCommands(for: target, backend: .ipset) {
                    // `ipset -exist del` succeeds whether or not the entry was there: ask first.
                    let (name, entry) = (command[3], command[4])
                    guard run(ipset, ["test", name, entry]) == 0 else { continue }
                    if run(ipset, Array(command.dropFirst())) == 0 { removedFrom.append(name) }
                }
            }
            if let nft = tool("nft") {
                for command in sets.unbanCommands(for: target, backend: .nft)
                where run(nft, Array(command.dropFirst())) == 0 {
                    removedFrom.append(command[5])
                }
            }
        }
        return Array(Set(removedFrom)).sorted()
    }

    func tool(_ name: String) -> String? {
        searchPath.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a tool quietly; its exit status (-1 when it cannot start).
    func run(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
