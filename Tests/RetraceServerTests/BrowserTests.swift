import Foundation
import Testing

/// The product page as a real browser renders it: Debian's headless Chromium loads the page from
/// the test server and the checks read the DOM it built and the screenshot it drew.
///
/// `.ci/run` installs Chromium, and under CI a missing browser fails the test; elsewhere the test
/// is skipped when no `chromium` is on the PATH, so `swift test` still runs on a bare machine.
extension ServerTests {
    @Suite("Product page in headless Chromium", .enabled(if: Chromium.path != nil || Chromium.required))
    struct BrowserTests {
        @Test("A refurbished item renders as verified, with its refurbishment, warranty and the bundle download")
        func refurbished() async throws {
            let fixture = try await ServerFixture.shared.value
            let page = try await Chromium.render(
                port: fixture.port,
                path: ServerTests.ProductPageTests.path(fixture.script.showcase)
            )
            #expect(page.text.contains("✓ Verified"))
            #expect(page.text.contains("Genuine, with a verified history"))
            #expect(page.text.contains("Certified refurbished, with a 12-month warranty."))
            #expect(page.text.contains("Certified under R2v3, certificate R2V3-2024-0117"))
            #expect(page.text.contains("Vouched for by Proseware Renew , refurbisher"))
            #expect(page.text.contains("Download the offline proof bundle"))
            #expect(page.screenshot.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG was drawn")
            #expect(page.screenshot.count > 20_000, "the screenshot has content")
        }

        @Test("A flagged (recycled, then seen again) item renders the do-not-trust warning")
        func flagged() async throws {
            let fixture = try await ServerFixture.shared.value
            let recycled = try #require(fixture.script.recycledProducts.first)
            let page = try await Chromium.render(port: fixture.port, path: ServerTests.ProductPageTests.path(recycled))
            #expect(page.text.contains("✗ Do not trust"))
            #expect(page.text.contains("Warning: this item was recycled"))
            #expect(page.text.contains("may be a counterfeit carrying a copied serial number"))
            #expect(!page.text.contains("Genuine, with a verified history"))
        }
    }
}

enum Chromium {
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let required = ProcessInfo.processInfo.environment["CI"] != nil

    struct Page {
        let text: String
        let screenshot: [UInt8]
    }

    /// Loads `path` twice: once for the DOM Chromium built (`--dump-dom`), once for a phone-sized
    /// screenshot; the text is the DOM's visible words with tags stripped.
    static func render(port: Int, path: String) async throws -> Page {
        guard let chromium = Self.path else {
            throw LoopbackErrorForTests("chromium is not installed (apt install chromium)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "retrace-chromium-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = "http://127.0.0.1:\(port)\(path)"
        let common = [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--user-data-dir=\(directory.appendingPathComponent("profile").path)",
        ]
        let dom = try await run(chromium, common + ["--dump-dom", url])
        let shot = directory.appendingPathComponent("page.png")
        _ = try await run(chromium, common + ["--window-size=430,1400", "--screenshot=\(shot.path)", url])
        let png = (try? Data(contentsOf: shot)).map { Array($0) } ?? []
        return Page(text: ServerTests.ProductPageTests.words(dom), screenshot: png)
    }

    /// Runs a process off Swift's cooperative pool and returns its standard output.
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        try await ServerFixture.offPool {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw LoopbackErrorForTests("chromium exited with \(process.terminationStatus)")
            }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
