// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "SIPWarden",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sipwarden", targets: ["sipwarden"]),
        .library(name: "SIPWardenCore", targets: ["SIPWardenCore"]),
        .library(name: "SIPWardenCapture", targets: ["SIPWardenCapture"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
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
        .executableTarget(
            name: "sipwarden",
            dependencies: [
                "SIPWardenCore",
                "SIPWardenCapture",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SIPWardenCoreTests", dependencies: ["SIPWardenCore"]),
        .testTarget(
            name: "SIPWardenCaptureTests",
            dependencies: ["SIPWardenCapture", "SIPWardenCore"]
        ),
        // Runs the built binary; `swift build` must have built it first.
        .testTarget(name: "SIPWardenCLITests"),
    ],
    swiftLanguageModes: [.v6]
)
