// swift-tools-version:6.1
import PackageDescription

// Benchmarks for SIPWarden, kept out of the main package so that ordo-one/benchmark, its malloc
// interposer and libosip2 never become dependencies of the filter itself.
let package = Package(
    name: "SIPWardenBenchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "generate-capture", targets: ["generate-capture"])
    ],
    dependencies: [
        .package(name: "SIPWarden", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Deterministic SIP traffic: sample messages, Ethernet/IP/UDP/TCP framing, pcap writing.
        .target(name: "SIPTraffic"),
        // libosip2's parser behind two prefixed functions, as the reference peer for the classifier.
        .target(
            name: "COsipPeer",
            linkerSettings: [.linkedLibrary("osipparser2")]
        ),
        .executableTarget(
            name: "generate-capture",
            dependencies: [
                "SIPTraffic",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "Classifier",
            dependencies: [
                "SIPTraffic",
                "COsipPeer",
                .product(name: "SIPWardenCore", package: "SIPWarden"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Classifier",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Decoder",
            dependencies: [
                "SIPTraffic",
                .product(name: "SIPWardenCore", package: "SIPWarden"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Decoder",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Engine",
            dependencies: [
                "SIPTraffic",
                .product(name: "SIPWardenCore", package: "SIPWarden"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Engine",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Replay",
            dependencies: [
                "SIPTraffic",
                "COsipPeer",
                .product(name: "SIPWardenCore", package: "SIPWarden"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Replay",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
