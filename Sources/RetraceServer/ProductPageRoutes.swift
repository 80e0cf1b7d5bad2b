import CanonicalJSON
import Hummingbird
import RetraceIdentity
import RetraceProductPage
import RetraceVerification

/// `GET /01/{gtin}/21/{serial}`: the GS1 Digital Link path, so the QR code on an item can resolve
/// straight to its verified history. Browsers get the HTML page, `Accept: application/json` the
/// history document of `/v1/products/{gtin}/{serial}`. Any other spelling of the same identity (a
/// GTIN-13, lot or CPV qualifiers, a non-canonical escape) is redirected to the one canonical path,
/// so each item has exactly one page address.
struct ProductPageRoutes: Sendable {
    let service: LedgerService
    let page = ProductPage()

    func register(on router: Router<BasicRequestContext>) {
        // One catch-all route: Hummingbird's router cannot hold both `/01/:gtin/21/:serial` and
        // `/01/**`, and every spelling must be parsed anyway to find its canonical path.
        router.get("/01/**") { request, _ in
            let wantsJSON = Self.prefersJSON(request.headers[.accept])
            let link = "https://id.gs1.org" + request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            let product: SGTIN
            do { product = try IdentityParser.parse(link).sgtin } catch let error as IdentityError {
                let detail: String =
                    "\(request.uri.path) is not a GS1 Digital Link naming a GTIN and a serial: \(error.reason)"
                let problem = Problem(
                    .notFound,
                    code: "not-a-product-page",
                    title: "Not a product page",
                    detail: detail
                )
                if wantsJSON { throw problem }
                // The buyer scanned or tapped this link and never typed it: the parser's positions in
                // the URL mean nothing to them (the JSON problem keeps the detail for developers).
                return notice(
                    .notFound,
                    .warning,
                    "This is not a valid product code",
                    [
                        "The link does not hold a valid product number (GTIN) and serial number, so no history "
                            + "can be looked up for it.",
                        "Scan the code on the item again, or check that the whole link was copied.",
                    ],
                    nil
                )
            }
            let canonical = ProductPath.canonicalPath(product)
            if request.uri.path != canonical || request.uri.query != nil { return Responses.redirect(to: canonical) }
            return wantsJSON ? try json(product) : html(product)
        }
    }

    private func json(_ product: SGTIN) throws(Problem) -> Response {
        Responses.json(ProductHistory(try service.verifiedProduct(product)).json)
    }

    private func html(_ product: SGTIN) -> Response {
        do {
            let verified = try service.verifiedProduct(product)
            let path = ProductPath.canonicalPath(product).dropFirst("/01/".count)
            let parts = path.split(separator: "/21/", maxSplits: 1)
            let bundle = "/v1/products/\(parts.first ?? "")/\(parts.last ?? "")/bundle"
            return Responses.html(page.render(verified, bundleURL: bundle, witnessed: service.witnesses?.summary))
        } catch  where error.status == .notFound {
            return notice(
                .notFound,
                .danger,
                "No record of this item",
                [
                    "The ledger has no product with this GTIN and serial number. Its brand never registered it, so "
                        + "the item may be counterfeit.",
                    "Check the code against the label, or ask the seller for proof of origin.",
                ],
                product
            )
        } catch  where error.code == "ledger-integrity-failure" {
            return notice(
                .internalServerError,
                .danger,
                "This history could not be verified",
                [
                    "The records for this item do not pass their cryptographic checks, so this page cannot vouch "
                        + "for it. Do not rely on its history."
                ],
                product
            )
        } catch {
            return notice(
                error.status,
                .warning,
                "The history is unavailable right now",
                ["The ledger could not be read. Please try again in a moment."],
                product
            )
        }
    }

    private func notice(
        _ code: HTTPResponse.Status,
        _ status: ProductPage.Status,
        _ headline: String,
        _ lines: [String],
        _ product: SGTIN?
    ) -> Response {
        Responses.html(
            page.renderNotice(status: status, headline: headline, lines: lines, product: product),
            status: code
        )
    }

    /// JSON when the client ranks `application/json` above `text/html` (q-values honoured; a bare
    /// `*/*` or no header gets HTML, since that is what a phone's browser sends).
    static func prefersJSON(_ accept: String?) -> Bool {
        guard let accept else { return false }
        var json = -1.0
        var html = -1.0
        for part in accept.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = pieces.first else { continue }
            var q = 1.0
            for parameter in pieces.dropFirst() where parameter.hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            if type == "application/json" || type == "application/problem+json" { json = max(json, q) }
            if type == "text/html" || type == "application/xhtml+xml" { html = max(html, q) }
        }
        return json > 0 && json > html
    }
}
