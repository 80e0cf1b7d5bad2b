import CanonicalJSON
import FuzzSupport
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import RetraceSimulation

/// Fuzzes the signed event format and the rules that judge it: `SignedStatement(parsing:)`,
/// `LogEntry(parsing:)`, the roster document, `Catalogue.validate`, `TrustState.authenticate` and
/// `Lifecycle.apply`, plus `ProductState(json:)` for stored states.
///
/// Properties of what is accepted:
/// - a parsed statement or entry re-encodes to the exact input bytes (what is signed and hashed has
///   one byte form), and its statement rebuilds from its own JSON with the same id;
/// - what the readers without a JSON tree (`PlainEntryReader`) accept, the tree readers read equal;
/// - rules only ever throw `RuleViolation`; a state they produce survives its JSON round trip;
/// - a roster document that parses rebuilds from its own JSON.
///
/// To reach the lifecycle rules past the signature check, the claimed signer's party is looked up
/// without verifying the signature, and the event is judged against the product's real state at its
/// `previous` event in the demo story (the seeds are its statements), a state picked by the input from
/// every state of the story, and no state at all.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    // The readers without a JSON tree accept only what the tree readers read alike.
    if let plain = PlainEntryReader.signedStatement(bytes) {
        let tree = try? SignedStatement(readingTree: bytes)
        invariant(plain == tree, "the plain reader reads a statement otherwise")
    }
    if let plain = PlainEntryReader.entry(bytes) {
        let tree = try? LogEntry(readingTree: bytes, members: [])
        invariant(plain == tree, "the plain reader reads an entry otherwise")
    }
    if let signed = try? SignedStatement(parsing: bytes) {
        invariant(
            (try? CanonicalJSON.encode(signed.json)) == bytes, "a parsed signed statement re-encodes differently")
        judge(signed, selector: bytes)
    } else if let entry = try? LogEntry(parsing: bytes) {
        invariant(entry.canonicalBytes == bytes, "a parsed log entry has different canonical bytes")
        judge(entry.signed, selector: bytes)
    } else if let value = try? CanonicalJSON.decode(bytes, options: .strict) {
        if let state = try? ProductState(json: value) {
            invariant((try? ProductState(json: state.json)) == state, "a stored state does not survive its JSON")
        }
        checkRoster(value)
    }
    return 0
}

/// What the rules need: the test roster in force and every product state the demo story goes through.
private struct Fixture: Sendable {
    let trust: TrustState
    /// The state of each product right after each event of the story, by event id and product.
    let stateAfter: [Digest: [SGTIN: ProductState]]
    /// All of them, for states picked by the input.
    let states: [ProductState]
    let parties: [Party]

    static let shared: Fixture = {
        do { return try Fixture() } catch { fatalError("the demo story does not replay: \(error)") }
    }()

    init() throws {
        let testParties = try TestParties()
        // As the demo ledger starts: the test roster signed at the story's day 0.
        var trust = try TrustState(trustRoots: [testParties.governance.verifier])
            .applying(roster: testParties.signedRoster(time: DemoStory.start))
        let (statements, _) = try DemoStory.statements(parties: testParties)
        var current: [SGTIN: ProductState] = [:]
        var stateAfter: [Digest: [SGTIN: ProductState]] = [:]
        var states: [ProductState] = []
        for signed in statements {
            if signed.statement.type == .roster {
                trust = try trust.applying(roster: signed)
                continue
            }
            let party = try trust.authenticate(signed)
            let products = signed.statement.product.map { [$0] } ?? signed.members.map(\.product)
            for product in products {
                let next = try Lifecycle.apply(
                    signed.statement, product: product, eventID: signed.id, state: current[product], signer: party,
                    trust: trust)
                current[product] = next
                stateAfter[signed.id, default: [:]][product] = next
                states.append(next)
            }
        }
        self.trust = trust
        self.stateAfter = stateAfter
        self.states = states
        self.parties = trust.roster?.parties ?? []
    }
}

private func judge(_ signed: SignedStatement, selector: [UInt8]) {
    let fixture = Fixture.shared
    let statement = signed.statement
    invariant(
        (try? Statement(json: statement.json))?.id == statement.id, "a statement does not rebuild from its own JSON")
    if statement.type == .roster {
        if case .object(let details) = statement.json["details"] ?? .null { checkRoster(.object(details)) }
        _ = try? TrustState(trustRoots: fixture.trust.trustRoots).applying(roster: signed)
        _ = try? fixture.trust.applying(roster: signed)
        return
    }
    _ = try? Catalogue.validate(statement)
    _ = Catalogue.cbv(for: statement)
    _ = try? fixture.trust.authenticate(signed)
    let hash = selector.reduce(UInt64(14_695_981_039_346_656_037)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    let signer =
        fixture.trust.key(fingerprint: statement.signer)?.party
        ?? fixture.parties[Int(hash % UInt64(max(fixture.parties.count, 1)))]
    let products = statement.product.map { [$0] } ?? signed.members.prefix(4).map(\.product)
    let targets = statement.product != nil ? [statement.previous] : signed.members.prefix(4).map(\.previous)
    for (product, previous) in zip(products, targets) {
        var candidates: [ProductState?] = [nil]
        if let previous, let state = fixture.stateAfter[previous]?[product] { candidates.append(state) }
        if !fixture.states.isEmpty {
            candidates.append(fixture.states[Int((hash >> 8) % UInt64(fixture.states.count))])
        }
        for state in candidates {
            guard
                let next = try? Lifecycle.apply(
                    statement, product: product, eventID: signed.id, state: state, signer: signer,
                    trust: fixture.trust)
            else { continue }
            invariant((try? ProductState(json: next.json)) == next, "a new state does not survive its JSON")
        }
    }
}

private func checkRoster(_ value: JSONValue) {
    guard let roster = try? RosterDocument(json: value) else { return }
    invariant((try? RosterDocument(json: roster.json)) == roster, "a roster document does not rebuild from its JSON")
}
