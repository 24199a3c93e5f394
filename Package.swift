// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SIPWarden",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sipwarden", targets: ["sipwarden"]),
        .library(name: "SIPWardenCore", targets: ["SIPWardenCore"]),
        .library(name: "SIPWardenCapture", targets: ["SIPWardenCapture"]),
        .library(name: "SIPWardenQueue", targets: ["SIPWardenQueue"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // Pure decision logic: bytes and time in, values out. No sockets, no clock.
        .target(
            name: "SIPWardenCore",
            dependencies: [.product(name: "TOMLKit", package: "TOMLKit")]
        ),
        // libpcap, imported through a system-library module (Debian: libpcap-dev).
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // Reads pcap and pcapng captures and hands each frame to the core without copying.
        .target(name: "SIPWardenCapture", dependencies: ["SIPWardenCore", "CPcap"]),
        // A small prefixed C API over libnetfilter_queue + libmnl; the kernel headers stay in its .c file.
        .target(
            name: "CNetfilterQueue",
            linkerSettings: [.linkedLibrary("netfilter_queue"), .linkedLibrary("mnl")]
        ),
        // posix_spawn's closefrom file action, which Swift's Glibc module does not declare.
        .target(name: "CSpawn"),
        // The inline daemon's Linux I/O: NFQUEUE sockets, queue threads, signals, control socket, metrics.
        .target(
            name: "SIPWardenQueue",
            dependencies: [
                "SIPWardenCore",
                "CNetfilterQueue",
                "CSpawn",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "sipwarden",
            dependencies: [
                "SIPWardenCore",
                "SIPWardenCapture",
                "SIPWardenQueue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "SIPWardenCoreTests", dependencies: ["SIPWardenCore"]),
        .testTarget(
            name: "SIPWardenCaptureTests",
            dependencies: ["SIPWardenCapture", "SIPWardenCore"]
        ),
        .testTarget(
            name: "SIPWardenQueueTests",
            dependencies: ["SIPWardenQueue", "SIPWardenCore", .product(name: "Logging", package: "swift-log")]
        ),
        // Time-bounded runs of real programs, for the tests that drive the binary and system tools.
        .target(name: "SIPWardenTestSupport", path: "Tests/SIPWardenTestSupport"),
        // Runs the built binary; `swift build` must have built it first.
        .testTarget(name: "SIPWardenCLITests", dependencies: ["SIPWardenTestSupport"]),
        // Root only: network namespaces, iptables, sipp and SIPVicious against `sipwarden run`.
        .testTarget(name: "SIPWardenLiveTests", dependencies: ["SIPWardenCore", "SIPWardenTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
