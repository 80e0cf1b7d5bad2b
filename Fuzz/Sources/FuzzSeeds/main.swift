import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import RetraceSimulation

/// Writes the generated seeds of the fuzz corpora into `<corpus>/<Target>/` (default: ../Tests/FuzzCorpus
/// from the Fuzz folder), all from fixed test material, so a rerun writes the same files:
/// the demo story's scans, statements, entries and states, checkpoints and keys of the test parties,
/// the committed note and bundle vectors, and a few hand-made JSON texts.
/// Usage: FuzzSeeds [corpus folder] (run from Fuzz/, like scripts/fuzz.sh does).

let corpus = URL(fileURLWithPath: CommandLine.arguments.dropFirst().first ?? "../Tests/FuzzCorpus")
let repository = corpus.deletingLastPathComponent().deletingLastPathComponent()

func write(_ target: String, _ name: String, _ bytes: [UInt8]) throws {
    let folder = corpus.appendingPathComponent(target)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try Data(bytes).write(to: folder.appendingPathComponent(name))
}

func write(_ target: String, _ name: String, _ text: String) throws { try write(target, name, Array(text.utf8)) }

func read(_ path: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: repository.appendingPathComponent(path)))
}

let parties = try TestParties()
let (statements, script) = try DemoStory.statements(parties: parties)

// MARK: FuzzIdentity: what docks scan, in every form, with the extras scanners send.

for (number, scan) in script.scans.enumerated() { try write("FuzzIdentity", "demo-scan-\(number)", scan.scan) }
for (number, product) in script.products.prefix(8).enumerated() {
    try write("FuzzIdentity", "demo-\(number)-digital-link", product.digitalLink)
    try write("FuzzIdentity", "demo-\(number)-element-string", product.elementString)
    try write("FuzzIdentity", "demo-\(number)-human-readable", product.humanReadable)
    try write("FuzzIdentity", "demo-\(number)-epc-urn", try product.epcURN(companyPrefixLength: 7))
    try write(
        "FuzzIdentity", "demo-\(number)-datamatrix",
        "]d201\(product.gtin.digits)17270131" + "10LOT\(number)\u{1D}21\(product.serial.value)\n")
    try write(
        "FuzzIdentity", "demo-\(number)-digital-link-extras",
        "https://brand.example/01/\(product.gtin.digits)/10/LOT\(number)/21/\(product.serial.value)"
            + "?17=270131&11=260101")
}

// MARK: FuzzEvent: signed statements as submitted, log entries as stored, states, the roster.

let roster = try parties.signedRoster(time: DemoStory.start)
try write("FuzzEvent", "roster-statement", try CanonicalJSON.encode(roster.json))
let rosterEntry = LogEntry(received: DemoStory.start.adding(seconds: 1), signed: roster)
try write("FuzzEvent", "roster-entry", rosterEntry.canonicalBytes)
try write("FuzzEvent", "roster-document", try CanonicalJSON.encode(parties.roster.json))
var seenTypes: [EventType: Int] = [:]
var trust = try TrustState(trustRoots: [parties.governance.verifier]).applying(roster: roster)
var states: [SGTIN: ProductState] = [:]
for (number, signed) in statements.enumerated() {
    let type = signed.statement.type
    seenTypes[type, default: 0] += 1
    // Every type and batch, and a sample of the rest, keeps the seed set small.
    guard seenTypes[type, default: 0] <= 3 || !signed.members.isEmpty || number % 10 == 0 else { continue }
    try write("FuzzEvent", "demo-\(number)-\(type.name)", try CanonicalJSON.encode(signed.json))
    if number % 5 == 0 {
        let entry = LogEntry(received: signed.statement.time.adding(seconds: 30), signed: signed)
        try write("FuzzEvent", "demo-\(number)-\(type.name)-entry", entry.canonicalBytes)
    }
}
for signed in statements where signed.statement.type != .roster {
    let party = try trust.authenticate(signed)
    for product in signed.statement.product.map({ [$0] }) ?? signed.members.map(\.product) {
        states[product] = try Lifecycle.apply(
            signed.statement, product: product, eventID: signed.id, state: states[product], signer: party,
            trust: trust)
    }
}
var phasesSeen: Set<String> = []
let sortedStates = states.sorted { $0.key.digitalLink < $1.key.digitalLink }.map(\.value)
for state in sortedStates where phasesSeen.insert(state.phase.name).inserted {
    try write("FuzzEvent", "state-\(state.phase.name)", try CanonicalJSON.encode(state.json))
}

// MARK: FuzzCanonicalJSON: the signed shapes, and small texts strict and lenient.

try write("FuzzCanonicalJSON", "roster-document", try CanonicalJSON.encode(parties.roster.json))
for (number, signed) in statements.enumerated() where number % 40 == 0 {
    try write("FuzzCanonicalJSON", "statement-\(number)", try CanonicalJSON.encode(signed.json))
}
let texts: [(String, String)] = [
    ("null", "null"), ("true", "true"), ("false", "false"), ("zero", "0"), ("max", "9007199254740991"),
    ("min", "-9007199254740991"), ("too-big", "9007199254740992"), ("float", "1.5"), ("exponent", "1e3"),
    ("negative-zero", "-0"), ("leading-zero", "012"), ("empty-array", "[]"), ("empty-object", "{}"),
    ("nested", #"{"a":[1,{"b":null,"c":[true,false]}],"d":"e"}"#),
    ("unsorted", #"{"b":1,"a":2}"#), ("duplicate", #"{"a":1,"a":2}"#),
    ("whitespace", " {\n\t\"a\" : [ 1 , 2 ] } \r\n"),
    ("escapes", #""\u0000\u001f\"\\\/\b\f\n\r\t\u00e9\u20ac""#),
    ("canonical-escapes", "\"\\u0000\\u001f\\\"\\\\/\\b\\f\\n\\r\\t\u{e9}\u{20ac}\""),
    ("surrogates", #""\ud83d\ude00""#), ("lone-surrogate", #""\ud800""#),
    ("utf8", "\"\u{1F600}\u{FB33}\u{80}\""), ("bad-utf8", "\"\u{FF}\""),
    ("keys-utf16-order", "{\"\\r\":1,\"1\":2,\"\u{80}\":3,\"\u{F6}\":4,\"\u{20AC}\":5,\"\u{1F600}\":6,\"\u{FB33}\":7}"),
    ("equivalent-keys", "{\"e\u{301}\":1,\"\u{E9}\":2}"),
    ("deep-64", String(repeating: "[", count: 64) + String(repeating: "]", count: 64)),
    ("deep-65", String(repeating: "[", count: 65) + String(repeating: "]", count: 65)),
    ("deep-objects", String(repeating: "{\"a\":", count: 40) + "0" + String(repeating: "}", count: 40)),
    ("trailing", "{} x"), ("bom", "\u{FEFF}{}"),
]
for (name, text) in texts { try write("FuzzCanonicalJSON", name, text) }

// MARK: FuzzBundle: the committed bundle vectors.

for name in [
    "valid-product", "valid-member", "valid-certificate", "invalid-byte-changed", "invalid-certificate-partial",
    "invalid-checkpoint-key", "invalid-event-missing", "invalid-events-reordered", "invalid-member-index",
    "invalid-not-canonical", "invalid-proof", "invalid-roster-missing",
] {
    try write("FuzzBundle", "vector-\(name).json", try read("spec/vectors/bundle/\(name).json"))
}

// MARK: FuzzCheckpoint: notes and checkpoints, signed and not, and key texts.

for (source, path) in [
    ("crypto", "Tests/RetraceCryptoTests/Vectors/notes.json"), ("merkle", "Tests/MerkleLogTests/Vectors/notes.json"),
] {
    let vectors = try CanonicalJSON.decode(read(path), options: .lenient)["vectors"]?.arrayValue ?? []
    for (number, vector) in vectors.enumerated() {
        for field in ["note", "text", "verifierKey", "privateKey"] {
            if let text = vector[field]?.stringValue {
                try write("FuzzCheckpoint", "\(source)-\(number)-\(field)", text)
            }
        }
    }
}
let core = try CanonicalJSON.decode(read("spec/vectors/core.json"), options: .lenient)
if let checkpoint = core["checkpoint"]?.stringValue {
    try write("FuzzCheckpoint", "core-checkpoint", checkpoint)
}
for size: UInt64 in [0, 1, 7, 20, 1 << 40] {
    let checkpoint = try Checkpoint(
        origin: TestParties.origin, size: size, rootHash: SHA256.hash(Array("root \(size)".utf8)))
    try write("FuzzCheckpoint", "checkpoint-\(size)-text", checkpoint.text)
    try write("FuzzCheckpoint", "checkpoint-\(size)-note", try checkpoint.sign(with: parties.log).serialized)
}
let extended = try Checkpoint(
    origin: TestParties.origin, size: 3, rootHash: SHA256.hash([3]), extensions: ["witness: one", "ext two"])
let twice = try SignedNote.sign(text: extended.text, with: [parties.log, parties.governance])
try write("FuzzCheckpoint", "checkpoint-extensions-two-signatures", twice.serialized)
try write("FuzzCheckpoint", "log-verifier-key", parties.log.verifier.description)
try write("FuzzCheckpoint", "log-private-key", parties.log.privateKeyText + "\n")

print("seeds written to \(corpus.path)")
