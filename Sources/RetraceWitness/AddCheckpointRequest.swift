import RetraceCrypto

/// The body of a C2SP tlog-witness `add-checkpoint` request: the size the log believes the witness
/// holds, a consistency proof from it, and the new checkpoint as a signed note.
public struct AddCheckpointRequest: Sendable, Hashable {
    public let oldSize: UInt64
    public let proof: [[UInt8]]
    /// The checkpoint note, signature lines included.
    public let checkpoint: String

    /// The protocol's limit on proof lines.
    public static let maxProofLines = 63

    public init(oldSize: UInt64, proof: [[UInt8]], checkpoint: String) {
        self.oldSize = oldSize
        self.proof = proof
        self.checkpoint = checkpoint
    }

    public var body: String {
        "old \(oldSize)\n" + proof.map { Base64.encode($0) + "\n" }.joined() + "\n" + checkpoint
    }

    public init(parsing body: String) throws(WitnessError) {
        func fail(_ why: String) -> WitnessError { WitnessError(.malformedRequest, why) }
        guard let blank = body.range(of: "\n\n") else { throw fail("no empty line before the checkpoint") }
        let head = body[..<blank.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = head.first, first.hasPrefix("old ") else { throw fail("the first line must be `old <size>`") }
        let digits = first.dropFirst(4)
        guard let old = UInt64(digits), String(old) == digits else {
            throw fail("old size \"\(digits)\" is not a decimal without leading zeros")
        }
        var proof: [[UInt8]] = []
        for line in head.dropFirst() {
            guard let hash = Base64.decode(line), hash.count == 32 else {
                throw fail("proof line \(proof.count + 1) is not the base64 of a 32-byte hash")
            }
            proof.append(hash)
            guard proof.count <= Self.maxProofLines else { throw fail("more than \(Self.maxProofLines) proof lines") }
        }
        self.init(oldSize: old, proof: proof, checkpoint: String(body[blank.upperBound...]))
    }
}
