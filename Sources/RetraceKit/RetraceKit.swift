// RetraceKit: what a party's own Swift system needs to take part in a Retrace ledger run by
// someone else — parse identities, build and sign statements with its own key, submit them to a
// `retrace serve` over HTTPS, and verify every answer under trust roots it holds itself.
//
// The modules below are re-exported so that one `import RetraceKit` gives the value types
// (SGTIN, Statement, SignedStatement, DockVerdict, ProofBundle, Checkpoint …) the client speaks in.
@_exported import CanonicalJSON
@_exported import MerkleLog
@_exported import RetraceCrypto
@_exported import RetraceEvents
@_exported import RetraceIdentity
@_exported import RetraceVerification
