import Foundation
import RetraceCrypto

/// The machine's own limits, measured in the same run as the figures they are compared with.
struct Baseline {
    let verifyPerSecond: Double
    let sha256MBPerSecond: Double
    let cores: Int

    /// Ed25519 verifications per second on one core, through the same libcrypto calls the ledger
    /// uses, over a message the size of a typical statement.
    static func measure(seconds: Double = 2) throws -> Baseline {
        let key = try Ed25519PrivateKey(seed: [UInt8](repeating: 7, count: 32))
        let message = [UInt8](repeating: 0x61, count: 420)
        let signature = try key.sign(message)
        var count = 0
        let start = Measure.now()
        let deadline = start + UInt64(seconds * 1e9)
        while Measure.now() < deadline {
            for _ in 0..<64 where key.publicKey.isValidSignature(signature, for: message) { count += 1 }
        }
        let verify = Double(count) / (Double(Measure.now() - start) / 1e9)

        let block = [UInt8](repeating: 0x5a, count: 1 << 20)
        var hashed = 0
        let hashStart = Measure.now()
        while Measure.now() < hashStart + UInt64(seconds / 2 * 1e9) {
            _ = SHA256.hash(block)
            hashed += block.count
        }
        let sha = Double(hashed) / 1e6 / (Double(Measure.now() - hashStart) / 1e9)
        return Baseline(
            verifyPerSecond: verify,
            sha256MBPerSecond: sha,
            cores: ProcessInfo.processInfo.activeProcessorCount
        )
    }

    /// Signature-checked work cannot go faster than every core verifying: cores × verify.
    var ceiling: Double { Double(cores) * verifyPerSecond }

    func print(opensslSpeed: Double?) {
        Swift.print("\n## Machine limits (same run)")
        Swift.print("Ed25519 verify, 1 core (libcrypto via Retrace's wrapper): \(Measure.format(verifyPerSecond)) /s")
        if let opensslSpeed {
            Swift.print("Ed25519 verify, 1 core (`openssl speed ed25519`):        \(Measure.format(opensslSpeed)) /s")
        }
        Swift.print("SHA-256, 1 core: \(Measure.format(sha256MBPerSecond)) MB/s")
        Swift.print("Ceiling for signature-checked work: cores × verify = \(Measure.format(ceiling)) /s")
    }

    /// `openssl speed` for the same primitive, when the command is installed, as a cross-check that the
    /// Swift wrapper adds nothing significant.
    static func opensslSpeedVerify() -> Double? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["speed", "-seconds", "2", "ed25519"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        // " 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  41234.5  11234.5"
        for line in text.split(separator: "\n") where line.contains("Ed25519") && line.contains("EdDSA") {
            let numbers = line.split(separator: " ").compactMap { Double($0) }
            if let verify = numbers.last { return verify }
        }
        return nil
    }
}
