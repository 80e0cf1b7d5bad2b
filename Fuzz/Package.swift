// swift-tools-version:6.2
import PackageDescription

/// libFuzzer targets for Retrace's parsers. Not part of the root package: these executables get their
/// `main` from libFuzzer, so they only link with `-sanitize=fuzzer` (see scripts/fuzz.sh and FUZZING.md).
///
/// The root package declares no library products, and a package can only use another package's
/// products, so `.package(path: "..")` cannot reach its modules. Instead `Retrace` here is a symlink to
/// `../Sources` and the library targets below are compiled from exactly those sources, with the same
/// dependencies as in the root manifest. Keep the two graphs in step when a module is added or moved.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// One library module of the root package, built from `Retrace/<name>`.
func retrace(_ name: String, _ dependencies: [Target.Dependency] = []) -> Target {
    .target(name: name, dependencies: dependencies, path: "Retrace/\(name)", swiftSettings: strict)
}

/// One fuzz target: `Sources/<name>/` with a `main.swift` that hands control to libFuzzer.
func fuzzer(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies, swiftSettings: strict)
}

let fuzzTargets = ["FuzzIdentity", "FuzzCanonicalJSON", "FuzzEvent", "FuzzBundle", "FuzzCheckpoint", "FuzzHeadsMap"]

let package = Package(
    name: "RetraceFuzz",
    platforms: [.macOS(.v15)],
    products: fuzzTargets.map { .executable(name: $0, targets: [$0]) } + [
        .executable(name: "FuzzSeeds", targets: ["FuzzSeeds"])
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0")
    ],
    targets: [
        // The root package's library modules (see above).
        .systemLibrary(
            name: "COpenSSL", path: "Retrace/COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CSodium", path: "Retrace/CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        retrace("CodedErrors"),
        retrace("RetraceCrypto", ["COpenSSL", "CSodium", "CodedErrors"]),
        retrace("CanonicalJSON", ["CodedErrors"]),
        retrace("RetraceIdentity", ["CodedErrors"]),
        retrace("MerkleLog", ["RetraceCrypto", "CodedErrors"]),
        retrace("VerifiableMap", ["RetraceCrypto", "CodedErrors"]),
        retrace(
            "RetraceEvents", ["CanonicalJSON", "RetraceCrypto", "RetraceIdentity", "MerkleLog", "CodedErrors"]),
        retrace(
            "RetraceStorage",
            [
                "MerkleLog", "RetraceCrypto", "CodedErrors", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]),
        retrace("RetraceRules", ["RetraceEvents", "RetraceCrypto", "CanonicalJSON", "RetraceIdentity"]),
        retrace(
            "RetraceLedger", ["RetraceEvents", "RetraceRules", "RetraceStorage", "VerifiableMap", "CodedErrors"]),
        retrace("RetraceVerification", ["RetraceLedger", "VerifiableMap", "CodedErrors"]),
        retrace("RetraceSimulation", ["RetraceLedger"]),

        // libFuzzer's driver entry point, and what every target shares.
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], swiftSettings: strict),

        fuzzer("FuzzIdentity", ["RetraceIdentity"]),
        fuzzer("FuzzCanonicalJSON", ["CanonicalJSON"]),
        fuzzer(
            "FuzzEvent",
            [
                "RetraceEvents", "RetraceRules", "RetraceSimulation", "CanonicalJSON", "RetraceIdentity",
                "RetraceCrypto",
            ]),
        fuzzer(
            "FuzzBundle",
            [
                "RetraceVerification", "RetraceSimulation", "MerkleLog", "RetraceCrypto", "RetraceEvents",
                "CanonicalJSON",
            ]),
        fuzzer("FuzzCheckpoint", ["RetraceCrypto", "MerkleLog", "RetraceSimulation"]),
        fuzzer("FuzzHeadsMap", ["VerifiableMap", "RetraceCrypto"]),

        // Writes the generated part of the seed corpora (Tests/FuzzCorpus); an ordinary executable.
        .executableTarget(
            name: "FuzzSeeds",
            dependencies: [
                "RetraceSimulation", "RetraceVerification", "RetraceLedger", "RetraceStorage", "RetraceEvents",
                "RetraceRules", "RetraceIdentity", "RetraceCrypto", "CanonicalJSON", "MerkleLog",
            ],
            swiftSettings: strict),
    ]
)
