// swift-tools-version:6.2
import PackageDescription

/// Every Swift target is built in Swift 6 language mode (strict concurrency).
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Retrace",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "retrace", targets: ["retrace"]),
        .executable(name: "retrace-bench", targets: ["RetraceBench"]),
        .executable(name: "retrace-load", targets: ["RetraceLoad"]),
        // For a party's own Swift system: identities, signed statements, verification and the /v1 client.
        .library(name: "RetraceKit", targets: ["RetraceKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        // The HTTP service: Hummingbird 2 on SwiftNIO, structured logs, graceful shutdown, Prometheus text.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        // The storage engine for ledgers that outgrow one machine.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        // The client of a remote ledger: HTTP/1.1 and HTTPS with verified certificates.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // C libraries of the system, reached only through their Swift wrappers.
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // Ed25519 only, where it is measurably faster; libcrypto answers every case where the two differ.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        // The executables' allocator, in place of glibc's malloc; libraries never link it.
        .systemLibrary(name: "CJemalloc", pkgConfig: "jemalloc", providers: [.apt(["libjemalloc-dev"])]),
        .target(name: "ProcessAllocator", dependencies: ["CJemalloc"], swiftSettings: strict),

        // Bottom layer, no I/O: bytes, identities, hashes, signatures, the Merkle tree; the one
        // shape every module's error takes.
        .target(name: "CodedErrors", swiftSettings: strict),
        .target(name: "RetraceCrypto", dependencies: ["COpenSSL", "CSodium", "CodedErrors"], swiftSettings: strict),
        .target(name: "CanonicalJSON", dependencies: ["CodedErrors"], swiftSettings: strict),
        .target(name: "RetraceIdentity", dependencies: ["CodedErrors"], swiftSettings: strict),
        .target(name: "MerkleLog", dependencies: ["RetraceCrypto", "CodedErrors"], swiftSettings: strict),
        // The sparse Merkle map of every chain's head that each checkpoint commits to.
        .target(name: "VerifiableMap", dependencies: ["RetraceCrypto", "CodedErrors"], swiftSettings: strict),
        // Witnessing, no I/O: C2SP cosigner keys and tlog-cosignature/v1, tlog-policy, tlog-proof,
        // and the checks a tlog-witness makes before it cosigns.
        .target(
            name: "RetraceWitness", dependencies: ["RetraceCrypto", "MerkleLog", "CodedErrors"],
            swiftSettings: strict),
        // The signed formats: statements, entries, batches.
        .target(
            name: "RetraceEvents",
            dependencies: ["CanonicalJSON", "RetraceCrypto", "RetraceIdentity", "MerkleLog", "CodedErrors"],
            swiftSettings: strict),
        // Where statements are kept (behind a protocol; SQLite through GRDB).
        .target(
            name: "RetraceStorage",
            dependencies: [
                "MerkleLog", "RetraceCrypto", "CodedErrors", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        // Where a shared ledger is stored: the LedgerStore protocol on PostgreSQL (postgres-nio).
        .target(
            name: "RetracePostgres",
            dependencies: [
                "RetraceStorage", "MerkleLog", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The log as C2SP tlog-tiles: served, written to a folder for static hosts, and read back.
        .target(
            name: "RetraceTiles",
            dependencies: ["MerkleLog", "RetraceStorage", "RetraceCrypto", "CanonicalJSON", "CodedErrors"],
            swiftSettings: strict),
        // Who may say what, and what may happen next: roster and lifecycle, pure functions.
        .target(
            name: "RetraceRules", dependencies: ["RetraceEvents", "RetraceCrypto", "CanonicalJSON", "RetraceIdentity"],
            swiftSettings: strict),
        // The append path: statements checked against rules, stored, covered by checkpoints.
        .target(
            name: "RetraceLedger",
            dependencies: ["RetraceEvents", "RetraceRules", "RetraceStorage", "VerifiableMap", "CodedErrors"],
            swiftSettings: strict),

        // Verdicts, histories, offline proof bundles and proofs of recycling, from the database or a bundle.
        .target(
            name: "RetraceVerification", dependencies: ["RetraceLedger", "VerifiableMap", "CodedErrors"],
            swiftSettings: strict),

        // Whole-ledger audits, full or incremental, of a SQLite ledger or an export file.
        .target(
            name: "RetraceAudit",
            dependencies: [
                "RetraceLedger", "RetraceRules", "RetraceEvents", "RetraceStorage", "RetraceIdentity", "MerkleLog",
                "RetraceCrypto", "CanonicalJSON", "RetraceTiles", "CodedErrors", "VerifiableMap",
            ],
            swiftSettings: strict),

        // Retrace statements as GS1 EPCIS 2.0 JSON-LD events and back (spec/epcis.md).
        .target(
            name: "RetraceEPCIS", dependencies: ["RetraceRules", "RetraceEvents", "RetraceIdentity", "CanonicalJSON"],
            swiftSettings: strict),

        // Return, recovery, recall and fraud figures from the events a full audit accepts (spec/insights.md).
        .target(
            name: "RetraceInsights",
            dependencies: ["RetraceAudit", "RetraceRules", "RetraceEvents", "CanonicalJSON"],
            swiftSettings: strict),

        // The public product page behind the GS1 Digital Link: verified history rendered as HTML, no HTTP.
        .target(
            name: "RetraceProductPage",
            dependencies: ["RetraceVerification", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: strict),

        // The HTTP service: the /v1 API, problem details, the append sequencer, metrics, the product page route.
        .target(
            name: "RetraceServer",
            dependencies: [
                "RetraceLedger", "RetraceVerification", "RetraceProductPage", "RetraceStorage", "RetraceEvents",
                "RetraceIdentity", "RetraceCrypto", "CanonicalJSON", "MerkleLog", "RetraceTiles", "RetraceWitness",
                "RetraceWitnessService", "RetraceAudit", "RetraceInsights", "RetraceEPCIS", "RetraceRules",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict),

        // A party's own system as a client of a remote ledger: statements built and signed locally, submitted
        // to /v1, and every answer verified here under trust roots the party holds, never taken on the server's word.
        .target(
            name: "RetraceKit",
            dependencies: [
                "RetraceVerification", "RetraceAudit", "RetraceLedger", "RetraceRules", "RetraceStorage", "RetraceEvents",
                "RetraceIdentity", "RetraceCrypto", "CanonicalJSON", "MerkleLog", "RetraceWitness", "RetraceTiles",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),

        // Witnessing over HTTP: the tlog-witness server (`retrace witness`), its durable state, the
        // client and the log's cosignature gatherer.
        .target(
            name: "RetraceWitnessService",
            dependencies: [
                "RetraceWitness", "RetraceCrypto", "MerkleLog", "RetraceMonitor", "CanonicalJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),

        // Monitors: follow a log from a saved checkpoint, verify every new entry, report what is watched.
        .target(
            name: "RetraceMonitor",
            dependencies: ["RetraceEvents", "MerkleLog", "RetraceCrypto", "RetraceIdentity", "CanonicalJSON"],
            swiftSettings: strict),

        // A plain HTTP/1.1 client over loopback sockets, for the server's tests and load benchmark:
        // it can send what a real client would never send (truncated bodies, lying lengths).
        .target(name: "LoopbackHTTP", swiftSettings: strict),

        // Test parties, stories and ledger generators for the demo, tests and benchmarks.
        .target(name: "RetraceSimulation", dependencies: ["RetraceLedger"], swiftSettings: strict),

        .executableTarget(
            name: "retrace",
            dependencies: [
                "RetraceLedger", "RetraceSimulation", "RetraceVerification", "RetraceAudit", "RetraceStorage",
                "RetraceRules", "RetraceEvents", "RetraceIdentity", "RetraceCrypto", "CanonicalJSON", "MerkleLog",
                "RetraceServer", "RetraceTiles", "RetracePostgres", "RetraceKit", "RetraceWitness", "RetraceWitnessService",
                "RetraceMonitor", "RetraceEPCIS", "RetraceInsights", "ProcessAllocator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),

        // Figures printed beside the machine's own OpenSSL rates; never timed assertions.
        .executableTarget(
            name: "RetraceBench",
            dependencies: [
                "RetraceLedger", "RetraceSimulation", "RetraceVerification", "RetraceAudit", "RetraceStorage",
                "RetraceInsights", "VerifiableMap", "RetraceCrypto", "RetracePostgres", "ProcessAllocator",
                "RetraceEvents", "MerkleLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Only to rebuild a copy of a ledger for an experiment (the event-id index's cost).
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Benchmarks/RetraceBench", swiftSettings: strict),

        // The HTTP service under concurrent loopback clients: appends/s and verdict latency.
        .executableTarget(
            name: "RetraceLoad",
            dependencies: [
                "RetraceServer", "LoopbackHTTP", "RetraceLedger", "RetraceSimulation", "RetraceVerification", "MerkleLog",
                "RetraceStorage", "RetraceEvents", "RetraceIdentity", "RetraceCrypto", "CanonicalJSON", "ProcessAllocator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/RetraceLoad", swiftSettings: strict),

        // Child process of the reliability tests: appends and prints each acknowledged statement id.
        .executableTarget(
            name: "retrace-appender",
            dependencies: [
                "RetraceLedger", "RetraceSimulation", "RetraceStorage", "RetraceEvents", "RetraceIdentity",
                "CanonicalJSON",
            ],
            path: "Tools/RetraceAppender", swiftSettings: strict),

        // Shared by the test targets that run the built executables as child processes.
        .target(name: "RetraceTestSupport", path: "Tests/RetraceTestSupport", swiftSettings: strict),

        .testTarget(
            name: "RetraceCryptoTests", dependencies: ["RetraceCrypto"], exclude: ["Vectors", "GoEd25519"],
            swiftSettings: strict),
        .testTarget(name: "CanonicalJSONTests", dependencies: ["CanonicalJSON"], swiftSettings: strict),
        .testTarget(name: "RetraceIdentityTests", dependencies: ["RetraceIdentity"], swiftSettings: strict),
        .testTarget(
            name: "RetraceLedgerTests",
            dependencies: [
                "RetraceLedger", "RetraceSimulation", "RetraceAudit", "RetraceRules", "RetraceEPCIS", "VerifiableMap",
                "RetraceTestSupport",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RetraceRulesTests",
            dependencies: [
                "RetraceRules", "RetraceEvents", "RetraceCrypto", "CanonicalJSON", "RetraceIdentity", "RetraceLedger",
                "RetraceStorage", "RetraceAudit",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RetraceStorageTests",
            dependencies: [
                "RetraceStorage", "MerkleLog", "RetraceTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RetraceVerificationTests",
            dependencies: ["RetraceVerification", "RetraceSimulation", "VerifiableMap", "RetraceTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "RetraceSimulationTests",
            dependencies: [
                "RetraceSimulation", "RetraceLedger", "RetraceStorage", "RetraceRules", "RetraceEvents", "RetraceIdentity",
                "CanonicalJSON",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RetraceReliabilityTests",
            dependencies: [
                "retrace-appender", "RetraceTestSupport", "RetraceLedger", "RetraceSimulation", "RetraceAudit", "RetraceStorage",
                "RetraceEvents", "RetraceIdentity", "RetraceCrypto", "MerkleLog", "CanonicalJSON",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RetraceAuditTests",
            dependencies: [
                "RetraceAudit", "RetraceLedger", "RetraceSimulation", "RetraceRules", "RetraceEvents", "RetraceStorage",
                "RetraceIdentity", "MerkleLog", "RetraceCrypto", "CanonicalJSON", "RetraceTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RetraceCLITests",
            dependencies: [
                "retrace", "RetraceTestSupport", "RetraceLedger", "RetraceSimulation", "RetraceEvents",
                "RetraceIdentity", "RetraceCrypto", "CanonicalJSON", "MerkleLog",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["EPCIS"], swiftSettings: strict),
        .testTarget(
            name: "RetraceServerTests",
            dependencies: [
                "retrace", "RetraceTestSupport", "RetraceServer", "RetraceProductPage", "LoopbackHTTP", "RetraceSimulation", "RetraceLedger",
                "RetraceVerification", "RetraceEvents", "RetraceIdentity", "RetraceCrypto", "CanonicalJSON", "MerkleLog",
                "RetraceStorage", "RetraceAudit", "RetraceInsights",
                .product(name: "Logging", package: "swift-log"),
                // The tamper tests edit a served ledger's rows as an attacker with the file would.
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RetraceTilesTests",
            dependencies: [
                "RetraceTiles", "RetraceTestSupport", "RetraceLedger", "RetraceSimulation", "RetraceStorage", "RetraceAudit",
                "MerkleLog", "RetraceCrypto", "RetraceEvents", "LoopbackHTTP", "retrace",
            ],
            exclude: ["GoCheck"], swiftSettings: strict),
        .testTarget(
            name: "RetraceStoreConformanceTests",
            dependencies: [
                "RetraceStorage", "RetracePostgres", "RetraceLedger", "RetraceSimulation", "RetraceAudit", "RetraceEvents",
                "RetraceCrypto", "MerkleLog", "CanonicalJSON", "LoopbackHTTP", "RetraceTestSupport", "retrace",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RetraceClientTests",
            dependencies: [
                "retrace", "RetraceTestSupport", "RetraceKit", "RetraceSimulation",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),
        .testTarget(name: "MerkleLogTests", dependencies: ["MerkleLog"], exclude: ["Vectors"], swiftSettings: strict),
        .testTarget(
            name: "RetraceWitnessNetworkTests",
            dependencies: [
                "retrace", "RetraceTestSupport", "LoopbackHTTP", "RetraceWitness", "RetraceSimulation", "RetraceLedger",
                "RetraceStorage", "RetraceEvents", "RetraceIdentity", "RetraceCrypto", "CanonicalJSON", "MerkleLog",
                "RetraceWitnessService",
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RetraceWitnessTests", dependencies: ["RetraceWitness", "RetraceCrypto", "MerkleLog"], exclude: ["Vectors"],
            swiftSettings: strict),
        .testTarget(
            name: "VerifiableMapTests", dependencies: ["VerifiableMap", "RetraceCrypto", "RetraceTestSupport"],
            swiftSettings: strict),
    ]
)
