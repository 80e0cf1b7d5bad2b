import Foundation

/// Finds an executable of this package that `swift build` or `swift test` built, for the tests that
/// run Retrace as its users do: as a separate process, with real exit codes and signals.
///
/// SwiftPM puts executables beside the test bundle (`.build/<config>/`); where that is depends on
/// the platform's test runner, so several places are tried. An environment variable can name the
/// file directly, to test an installed binary.
public enum BuiltExecutable {
    /// The executable `name`, or the file named by the environment variable `override` when set.
    public static func locate(_ name: String, override: String) throws -> URL {
        if let path = ProcessInfo.processInfo.environment[override] { return URL(fileURLWithPath: path) }
        var folders = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        folders += [runner.deletingLastPathComponent(), runner.deletingLastPathComponent().deletingLastPathComponent()]
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        // Tests/RetraceTestSupport/<this file> → the package root → .build/debug (the CI layout).
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        folders.append(root.appendingPathComponent(".build/debug"))
        for folder in folders {
            let candidate = folder.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory),
                !isDirectory.boolValue,
                FileManager.default.isExecutableFile(atPath: candidate.path)
            {
                return candidate
            }
        }
        throw NotFound(
            description: "the \(name) executable was not found beside the tests (looked in "
                + "\(folders.map(\.path).joined(separator: ", "))); run `swift build` first or set \(override)"
        )
    }

    public struct NotFound: Error, CustomStringConvertible {
        public let description: String
    }
}
