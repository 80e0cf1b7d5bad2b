import RetraceIdentity

/// One of the log's chains: the roster's, the chain of one GTIN's `product-class` statements, or
/// one product's history.
///
/// Which chains a statement extends is part of the format (spec/format.md §3 and §5.2): the append
/// links it to their heads, the heads map advances their keys, and the audit replays both. Each of
/// them reads it from ``SignedStatement/forEachChain(_:)`` so that they cannot disagree.
public enum Chain: Hashable, Sendable {
    case roster
    case productClass(gtin: String)
    case product(SGTIN)
}

extension SignedStatement {
    /// Calls `body` with each chain this statement extends and the head it names there
    /// (`previous`: `nil` for a commission, the first roster and a GTIN's first class statement).
    ///
    /// A roster statement extends the roster chain; a `product-class` statement its GTIN's class
    /// chain (none when it names no `details.gtin`, which rule `L13` refuses before anything is
    /// logged); a batch each member's product, in the members' order; any other statement its one
    /// product. Given as calls rather than an array because the audit asks for every entry it
    /// reads, and an array per entry would be most of what this costs; inlinable so that the
    /// closure is too.
    @inlinable
    public func forEachChain(_ body: (Chain, Digest?) throws -> Void) rethrows {
        switch statement.type {
        case .roster:
            try body(.roster, statement.previous)
        case .productClass:
            if let gtin = statement.classGTIN { try body(.productClass(gtin: gtin), statement.previous) }
        default:
            if statement.batch != nil {
                for member in members { try body(.product(member.product), member.previous) }
            } else if let product = statement.product {
                try body(.product(product), statement.previous)
            }
        }
    }
}

extension SignedStatement {
    /// The product chains of ``forEachChain(_:)`` and the head each names, in its order: a batch's
    /// members, or the one product of any other statement (none for roster and `product-class`
    /// statements). What the append links and judges, read from the same definition the heads map
    /// and the audit use.
    public var productLinks: [(product: SGTIN, previous: Digest?)] {
        var links: [(product: SGTIN, previous: Digest?)] = []
        forEachChain { chain, previous in
            if case .product(let product) = chain { links.append((product, previous)) }
        }
        return links
    }

    /// The products of ``productLinks``: what an EPCIS export lists as the event's EPCs and a
    /// monitor matches against its watch list.
    public var products: [SGTIN] { productLinks.map(\.product) }
}
