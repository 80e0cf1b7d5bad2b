import ArgumentParser
import CanonicalJSON
import Foundation
import RetraceIdentity

/// `retrace identify <scan>`: what a dock runs when setting up a scanner.
struct IdentifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identify",
        abstract: "Parse an identity in any form; print its canonical Digital Link, GTIN, serial, lot and expiry.",
        discussion: "Scanner strings may carry the GS separator as the byte 0x1D or written as \\x1D or <GS>."
    )

    @Argument(help: "A scanner element string, (01)…(21)… text, a GS1 Digital Link URI, or an EPC URN.")
    var scan: String
    @OptionGroup var output: JSONFlag

    func run() throws {
        let text = scan.replacingOccurrences(of: "\\x1D", with: "\u{1D}").replacingOccurrences(
            of: "\\x1d",
            with: "\u{1D}"
        )
        .replacingOccurrences(of: "<GS>", with: "\u{1D}")
        let parsed = try LedgerAccess.parseIdentity(text)
        let sgtin = parsed.sgtin
        if output.json {
            try Output.json(
                .object([
                    "digitalLink": .string(sgtin.digitalLink), "gtin": .string(sgtin.gtin.digits),
                    "serial": .string(sgtin.serial.value), "lot": parsed.lot.map { .string($0) } ?? .null,
                    "expiry": parsed.expiry.map { .string($0.iso8601) } ?? .null, "form": .string(parsed.form.rawValue),
                    "elementString": .string(sgtin.elementString), "humanReadable": .string(sgtin.humanReadable),
                ])
            )
        } else {
            var rows: [(String, String)] = [
                ("digital link", sgtin.digitalLink), ("gtin", sgtin.gtin.digits), ("serial", sgtin.serial.value),
            ]
            if let lot = parsed.lot { rows.append(("lot", lot)) }
            if let expiry = parsed.expiry { rows.append(("expiry", expiry.iso8601)) }
            rows.append(("form", parsed.form.rawValue))
            Output.print(Output.fields(rows))
        }
    }
}
