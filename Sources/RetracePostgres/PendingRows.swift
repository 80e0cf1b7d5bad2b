import MerkleLog
import RetraceStorage

/// The rows a write transaction has inserted but not yet sent to PostgreSQL.
///
/// One round trip per row made a PostgreSQL append several times slower than SQLite's (one
/// `INSERT` per entry, chain link, product and batch of nodes); kept here, they go out as one
/// multi-row `INSERT` per table. Reads inside the transaction answer from these rows where they can
/// (the tree size, an entry by index or event id, a chain's head, a product, node hashes) and
/// have them sent first where they cannot, so the writer sees exactly what it would see had every
/// row been sent at once.
///
/// A reference type: ``PostgresAccess`` is a value copied into every call, and all copies inside
/// one transaction must share one buffer.
final class PendingRows {
    /// How many rows of each table the transaction has inserted so far, sent or not: the position
    /// a savepoint group starts at, and goes back to when it is refused.
    struct Marks: Equatable {
        var entries = 0
        var links = 0
        var products = 0
        var nodes = 0
    }

    /// A ``PostgresAccess/withSavepoint(_:)`` group still running. Its PostgreSQL savepoint is
    /// opened only when rows have to be sent while it runs; a group whose rows all stay here is
    /// rolled back by dropping them, with no round trip.
    struct Group {
        let start: Marks
        var opened = false
    }

    /// Rows of each table already sent.
    private(set) var sent = Marks()
    private(set) var entries: [StoredEntry] = []
    private(set) var links: [ChainLink] = []
    private(set) var products: [ProductRow] = []
    private(set) var nodes: [(NodeID, [UInt8])] = []
    var groups: [Group] = []

    private var entryByIndex: [UInt64: Int] = [:]
    private var entryByID: [[UInt8]: Int] = [:]
    private var headByChain: [String: Int] = [:]
    private var productByKey: [String: Int] = [:]
    private var nodeByID: [NodeID: Int] = [:]
    /// Bytes held, so a long transaction (a replica catching up) sends them before memory grows.
    private(set) var heldBytes = 0

    /// Beyond this many bytes held, the writer sends them at its next insert.
    static let sendThreshold = 16 << 20

    var isEmpty: Bool { entries.isEmpty && links.isEmpty && products.isEmpty && nodes.isEmpty }

    var total: Marks {
        Marks(
            entries: sent.entries + entries.count,
            links: sent.links + links.count,
            products: sent.products + products.count,
            nodes: sent.nodes + nodes.count
        )
    }

    func add(_ entry: StoredEntry) {
        entryByIndex[entry.index] = entries.count
        entryByID[entry.eventID] = entries.count
        entries.append(entry)
        heldBytes += entry.bytes.count + entry.members.reduce(0) { $0 + $1.count } + 96
    }

    func add(_ link: ChainLink) {
        // An older link after a newer one is kept for the INSERT, which decides; it is not the head.
        if headByChain[link.chain].map({ links[$0].sequence <= link.sequence }) ?? true {
            headByChain[link.chain] = links.count
        }
        links.append(link)
        heldBytes += link.chain.utf8.count + link.state.count + 64
    }

    func add(_ product: ProductRow) {
        productByKey[product.product] = products.count
        products.append(product)
        heldBytes += product.product.utf8.count + product.passport.count + 64
    }

    func add(_ node: (NodeID, [UInt8])) {
        nodeByID[node.0] = nodes.count
        nodes.append(node)
        heldBytes += 56
    }

    func entry(at index: UInt64) -> StoredEntry? { entryByIndex[index].map { entries[$0] } }
    func entryIndex(eventID: [UInt8]) -> UInt64? { entryByID[eventID].map { entries[$0].index } }
    func head(of chain: String) -> ChainLink? { headByChain[chain].map { links[$0] } }
    func hasLinks(of chain: String) -> Bool { headByChain[chain] != nil }
    func product(_ key: String) -> ProductRow? { productByKey[key].map { products[$0] } }
    func hash(of node: NodeID) -> [UInt8]? { nodeByID[node].map { nodes[$0].1 } }
    var lastEntryIndex: UInt64? { entries.lazy.map(\.index).max() }
    func hasEntries(from: UInt64, to: UInt64) -> Bool { entries.contains { $0.index >= from && $0.index < to } }

    /// Takes the rows inserted before `marks` off the buffer, for sending; the rest stay.
    func take(
        upTo marks: Marks
    ) -> (
        entries: ArraySlice<StoredEntry>, links: ArraySlice<ChainLink>, products: ArraySlice<ProductRow>,
        nodes: ArraySlice<(NodeID, [UInt8])>
    ) {
        let taken = (
            entries: entries[..<max(0, marks.entries - sent.entries)],
            links: links[..<max(0, marks.links - sent.links)],
            products: products[..<max(0, marks.products - sent.products)],
            nodes: nodes[..<max(0, marks.nodes - sent.nodes)]
        )
        entries.removeFirst(taken.entries.count)
        links.removeFirst(taken.links.count)
        products.removeFirst(taken.products.count)
        nodes.removeFirst(taken.nodes.count)
        sent.entries += taken.entries.count
        sent.links += taken.links.count
        sent.products += taken.products.count
        sent.nodes += taken.nodes.count
        reindex()
        return taken
    }

    /// Forgets every row inserted from `marks` on: a refused group's. Rows of the group already
    /// sent were undone by `ROLLBACK TO SAVEPOINT`, so the count of sent rows goes back too.
    func discard(from marks: Marks) {
        func cut<Row>(_ rows: inout [Row], sent: inout Int, to mark: Int) {
            if mark >= sent {
                rows.removeLast(max(0, rows.count - (mark - sent)))
            } else {
                rows.removeAll()
                sent = mark
            }
        }
        cut(&entries, sent: &sent.entries, to: marks.entries)
        cut(&links, sent: &sent.links, to: marks.links)
        cut(&products, sent: &sent.products, to: marks.products)
        cut(&nodes, sent: &sent.nodes, to: marks.nodes)
        reindex()
    }

    /// Rebuilds the lookups after rows left the buffer; a link that is no longer the newest of
    /// its chain must not stay its head.
    private func reindex() {
        entryByIndex = [:]
        entryByID = [:]
        headByChain = [:]
        productByKey = [:]
        nodeByID = [:]
        heldBytes = 0
        let (keptEntries, keptLinks, keptProducts, keptNodes) = (entries, links, products, nodes)
        entries = []
        links = []
        products = []
        nodes = []
        keptEntries.forEach(add)
        keptLinks.forEach(add)
        keptProducts.forEach(add)
        keptNodes.forEach(add)
    }
}
