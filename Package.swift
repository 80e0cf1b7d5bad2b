// swift-tools-version:6.2
import PackageDescription

/// Every Swift target is built in Swift 6 language mode with warnings treated as errors in CI builds.
let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Retrace",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "retrace", targets: ["retrace"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // C libraries of the system, reached only through their Swift wrappers.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        // Bottom layer: no I/O.
        .target(name: "RetraceCrypto", dependencies: ["COpenSSL"], swiftSettings: strict),

        .executableTarget(
            name: "retrace",
            dependencies: [
                "RetraceCrypto",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        .testTarget(name: "RetraceCryptoTests", dependencies: ["RetraceCrypto"], swiftSettings: strict),
    ]
)
