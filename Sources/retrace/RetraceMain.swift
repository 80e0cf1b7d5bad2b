import ArgumentParser
import Foundation

/// Entry point: parses, runs, and maps every failure to one line on stderr and exit code 1 or 2.
@main
enum RetraceMain {
    static func main() async {
        let command: any ParsableCommand
        do {
            command = try Retrace.parseAsRoot()
        } catch {
            if Retrace.exitCode(for: error) == .success { Retrace.exit(withError: error) }
            let message = Retrace.message(for: error).split(separator: "\n").first.map(String.init) ?? "bad arguments"
            Output.error("retrace: \(message); see `retrace help` or `retrace <command> --help`")
            exit(CLIError.cannotCheck)
        }
        do {
            if var serving = command as? any AsyncParsableCommand {
                try await serving.run()
            } else {
                var runnable = command
                try runnable.run()
            }
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            if Retrace.exitCode(for: error) == .success { Retrace.exit(withError: error) }
            let failure = CLIError.from(error)
            Output.error("retrace: \(failure.message)")
            exit(failure.exitCode)
        }
    }
}
