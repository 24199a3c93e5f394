import Foundation
import Logging
import SIPWardenCore

/// Removes addresses and prefixes from the kernel ban sets the firewall fills (ipset for the iptables
/// flavour, nft sets in table `inet sipwarden` for the nft flavour), by running `ipset` and `nft`.
/// Set names come from `BanSets`, the one place the firewall generator takes them from too.
public struct KernelBanSets: Sendable {
    public let sets: BanSets
    /// Where the tools are looked for.
    let searchPath: [String]

    public init(_ sets: BanSets, searchPath: [String] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
        self.sets = sets
        self.searchPath = searchPath
    }

    /// Deletes every entry overlapping `target` from each set of its family; returns the sets an entry
    /// was deleted from. Sets that do not exist (another flavour, not loaded) are skipped.
    public func remove(_ target: IPPrefix) -> [String] {
        var removedFrom: [String] = []
        let family = target.address.family
        for set in sets.sets where set.family == family {
            if let ipset = tool("ipset"), let members = ipsetMembers(ipset, set) {
                for member in members where member.overlaps(target) {
                    if run(ipset, ["-exist", "del", set.name, member.address.description]).status == 0 {
                        removedFrom.append(set.name)
                    }
                }
            }
            if let nft = tool("nft") {
                // nft sets hold the masked prefix (or the address); deleting a missing element fails harmlessly.
                let element = IPPrefix(address: target.address, length: max(target.length, set.prefixLength))
                let text = set.holdsPrefixes ? element.address.description : target.address.description
                if run(nft, ["delete", "element", "inet", "sipwarden", set.name, "{ \(text) }"]).status == 0 {
                    removedFrom.append(set.name)
                }
            }
        }
        return Array(Set(removedFrom)).sorted()
    }

    /// The entries of an ipset set (as prefixes of the set's netmask), or nil when there is no such set.
    func ipsetMembers(_ ipset: String, _ set: BanSets.Set) -> [IPPrefix]? {
        let name = set.name
        let result = run(ipset, ["save", name])
        guard result.status == 0 else { return nil }
        // Lines read "add NAME ADDRESS[/LEN] timeout N".
        return result.output.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard words.count >= 3, words[0] == "add", words[1] == name else { return nil }
            // A `netmask 24` set lists the masked address alone: it stands for the whole block.
            return IPPrefix(String(words[2])).map {
                IPPrefix(address: $0.address, length: min($0.length, set.prefixLength))
            }
        }
    }

    func tool(_ name: String) -> String? {
        searchPath.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
