// swift-tools-version: 6.0
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "jointops",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "jointopsctl", targets: ["jointopsctl"]),
        .executable(name: "jointops-bench", targets: ["jointops-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Workflow model, parser, validator and engine: pure, deterministic, no I/O, no clock.
        .target(
            name: "JointOpsCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        // Authoring tools that need no daemon: graphs and scenario simulation on a virtual clock.
        .target(
            name: "JointOpsAuthoring",
            dependencies: ["JointOpsCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        // The durable store: SQLite event log with a hash chain, projections, group commit.
        .target(
            name: "JointOpsStore",
            dependencies: [
                "JointOpsCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "jointopsctl",
            dependencies: [
                "JointOpsCore", "JointOpsAuthoring",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "jointops-bench",
            dependencies: ["JointOpsCore", "JointOpsStore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "JointOpsCoreTests",
            dependencies: ["JointOpsCore"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "JointOpsStoreTests",
            dependencies: [
                "JointOpsCore", "JointOpsStore", "JointOpsAuthoring",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "JointOpsAuthoringTests",
            dependencies: ["JointOpsCore", "JointOpsAuthoring"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
