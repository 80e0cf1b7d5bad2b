import FuzzSupport
import RetraceIdentity

/// Fuzzes `IdentityParser.parse` with any text a scanner or a user could send.
///
/// The parser must refuse bad input by throwing. What it accepts must be a valid SGTIN (a 14-digit
/// GTIN with a correct check digit, a serial of 1–20 characters of GS1 character set 82, all ASCII)
/// whose written forms read back as the same item, byte for byte:
/// - the canonical Digital Link, the element string and, for every company prefix length 6–12, the
///   EPC URN each parse to the same SGTIN with the same canonical Digital Link;
/// - the human-readable `(01)…(21)…` form too, unless the serial contains `(` (that form is ambiguous
///   for such serials by GS1's own design, so it is not a property of the parser).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // Lossy decoding on purpose: invalid UTF-8 becomes U+FFFD, which the parser must refuse too.
    let text = String(decoding: FuzzDriver.bytes(data, size), as: UTF8.self)
    guard let scan = try? IdentityParser.parse(text, referenceYear: 2026) else { return 0 }
    checkItem(scan.sgtin, input: text)
    checkRoundTrips(scan.sgtin, input: text)
    return 0
}

/// GS1 AI encodable character set 82, as Unicode scalars (so canonical equivalence cannot blur it).
private let characterSet82 = Set("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
    .unicodeScalars.map(\.value))

private func checkItem(_ sgtin: SGTIN, input: String) {
    let digits = Array(sgtin.gtin.digits.utf8)
    invariant(
        digits.count == 14 && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 },
        "GTIN \(sgtin.gtin.digits.debugDescription) is not 14 ASCII digits (input \(input.debugDescription))")
    var sum = 0
    for (index, digit) in digits.dropLast().enumerated() {
        sum += Int(digit - 0x30) * (index % 2 == 0 ? 3 : 1)
    }
    invariant(
        digits.count == 14 && Int(digits[13] - 0x30) == (10 - sum % 10) % 10,
        "GTIN \(sgtin.gtin.digits) has a wrong check digit (input \(input.debugDescription))")
    let serial = Array(sgtin.serial.value.unicodeScalars)
    invariant(
        (1...20).contains(serial.count) && serial.allSatisfy { characterSet82.contains($0.value) },
        "serial \(sgtin.serial.value.debugDescription) (scalars "
            + serial.map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined(separator: " ")
            + ") is not 1–20 characters of GS1 character set 82 (input \(input.debugDescription))")
}

private func checkRoundTrips(_ sgtin: SGTIN, input: String) {
    var forms: [(String, String)] = [("digital link", sgtin.digitalLink), ("element string", sgtin.elementString)]
    if !sgtin.serial.value.unicodeScalars.contains("(") {
        forms.append(("human-readable", sgtin.humanReadable))
    }
    for length in 6...12 {
        do {
            forms.append(("EPC URN (prefix length \(length))", try sgtin.epcURN(companyPrefixLength: length)))
        } catch {
            invariant(false, "epcURN(companyPrefixLength: \(length)) refused \(sgtin.digitalLink): \(error)")
        }
    }
    invariant(sameBytes(sgtin.description, sgtin.digitalLink), "description is not the canonical Digital Link")
    for (name, text) in forms {
        let reread: SGTIN
        do {
            reread = try IdentityParser.parse(text, referenceYear: 2026).sgtin
        } catch {
            invariant(
                false, "the \(name) \(text.debugDescription) of \(input.debugDescription) does not parse: \(error)")
            continue
        }
        invariant(
            reread == sgtin && sameBytes(reread.digitalLink, sgtin.digitalLink)
                && sameBytes(reread.serial.value, sgtin.serial.value),
            "the \(name) \(text.debugDescription) of \(input.debugDescription) reads back as \(reread.digitalLink), "
                + "not \(sgtin.digitalLink)")
    }
}
