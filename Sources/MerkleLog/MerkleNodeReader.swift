/// Read access to stored perfect-subtree hashes, implemented by the storage layer.
///
/// Every tree computation asks for all the nodes it needs in one call, so a database-backed
/// reader answers a whole proof in one round trip. A reader returns the hashes it holds and
/// leaves out nodes it does not have; the caller reports them as ``MerkleError/Code/missingNode``.
public protocol MerkleNodeReader {
    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]]
}
