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
        .executable(name: "jointopsd", targets: ["jointopsd"]),
        .executable(name: "jointops-bench", targets: ["jointops-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
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
        // sqlite3_config, which Swift cannot call (it is variadic).
        .systemLibrary(name: "CSQLiteConfig", providers: [.apt(["libsqlite3-dev"])]),
        // prctl, likewise.
        .systemLibrary(name: "CLinux"),
        // A VFS that coalesces the store's WAL writes (see wal_writes.c).
        .target(name: "CWALWrites", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(
            name: "JointOpsStore",
            dependencies: [
                "JointOpsCore", "CSQLiteConfig", "CLinux", "CWALWrites",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // Varlink framing, messages and the committed interface definitions.
        .target(
            name: "JointOpsProtocol",
            dependencies: ["JointOpsCore"],
            exclude: ["Interfaces"],
            swiftSettings: strictSettings
        ),
        // libsystemd, from Debian's libsystemd-dev.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // The daemon: engine actor, timers, control socket, services.
        .target(
            name: "JointOpsDaemon",
            dependencies: [
                "JointOpsCore", "JointOpsStore", "JointOpsProtocol", "CSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .executableTarget(
            name: "jointopsd",
            dependencies: ["JointOpsDaemon", "JointOpsProtocol", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "jointopsctl",
            dependencies: [
                "JointOpsCore", "JointOpsAuthoring", "JointOpsProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "jointops-bench",
            dependencies: [
                "JointOpsCore", "JointOpsStore", "JointOpsProtocol", "JointOpsDaemon", "CLinux",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
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
            name: "JointOpsDaemonTests",
            dependencies: [
                "JointOpsCore", "JointOpsProtocol", "JointOpsDaemon", "JointOpsStore", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
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
