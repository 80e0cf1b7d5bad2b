import CanonicalJSON
import Foundation

/// `/insights`: the return insights as one server-rendered page. Charts are inline SVG, there is no
/// script, and the layout is one column that reads on a phone; the filter form is a plain GET.
enum InsightsPage {
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A horizontal bar chart: one row per (label, value, caption), bars scaled to the largest value.
    static func bars(_ title: String, _ rows: [(label: String, value: Int64, caption: String)], color: String) -> String
    {
        guard !rows.isEmpty else {
            return "<section><h2>\(escape(title))</h2><p class=\"none\">Nothing recorded.</p></section>"
        }
        let rowHeight = 28
        let height = rows.count * rowHeight + 8
        let largest = max(rows.map(\.value).max() ?? 1, 1)
        var svg = """
            <svg viewBox="0 0 360 \(height)" width="100%" role="img" aria-label="\(escape(title))" \
            xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="12">
            """
        for (offset, row) in rows.enumerated() {
            let y = 4 + offset * rowHeight
            let width = Int(Double(row.value) / Double(largest) * 120)
            svg += """
                <text x="0" y="\(y + 17)" fill="#222">\(escape(String(row.label.prefix(18))))</text>\
                <rect x="120" y="\(y + 4)" width="\(max(width, row.value > 0 ? 2 : 0))" height="18" rx="3" fill="\(color)"/>\
                <text x="\(124 + width)" y="\(y + 17)" fill="#333">\(escape(row.caption))</text>
                """
        }
        svg += "</svg>"
        return "<section><h2>\(escape(title))</h2>\(svg)</section>"
    }

    static func percent(_ value: JSONValue?) -> String {
        guard let basisPoints = value?.integerValue else { return "—" }
        return String(format: "%.1f%%", Double(basisPoints) / 100)
    }

    static func hours(_ value: JSONValue?) -> String {
        guard let hours = value?.integerValue else { return "—" }
        return hours >= 48 ? "\(hours / 24) days" : "\(hours) h"
    }

    static func render(_ report: JSONValue, query: [String: String]) -> String {
        let returns = report["returns"]
        let ledger = report["ledger"]
        var html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Return insights · Retrace</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#222}
            main{max-width:680px;margin:0 auto;padding:16px}
            h1{font-size:1.4em;margin:.2em 0}h2{font-size:1.05em;margin:1.2em 0 .4em}
            section{background:#fff;border-radius:10px;padding:10px 14px;margin:12px 0;box-shadow:0 1px 2px #0001}
            .figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:8px}
            .figure{background:#fff;border-radius:10px;padding:10px;box-shadow:0 1px 2px #0001}
            .figure b{display:block;font-size:1.5em}.note,.none{color:#666;font-size:.9em}
            table{border-collapse:collapse;width:100%;font-size:.9em}td,th{text-align:left;padding:4px;border-bottom:1px solid #eee}
            form{display:flex;flex-wrap:wrap;gap:6px}input{width:8.5em;padding:4px}button{padding:4px 10px}
            </style></head><body><main>
            <h1>Return insights</h1>
            <p class="note">Computed from the \(ledger?["eventsRead"]?.integerValue ?? 0) events of a full audit of the \
            ledger (\(ledger?["treeSize"]?.integerValue ?? 0) entries, root \
            \(escape(String(ledger?["root"]?.stringValue?.prefix(16) ?? "")))…). Customers appear only as salted digests.</p>
            <form method="get" action="/insights">
            """
        for (name, hint) in [
            ("from", "from YYYY-MM-DD"), ("to", "to YYYY-MM-DD"), ("brand", "brand"), ("retailer", "retailer"),
            ("gtin", "GTIN"),
        ] {
            html += "<input name=\"\(name)\" placeholder=\"\(hint)\" value=\"\(escape(query[name] ?? ""))\">"
        }
        html += "<button type=\"submit\">Filter</button></form>"
        let reasons = returns?["reasons"]?.objectValue ?? JSONObject()
        let failed = (returns?["failedDeliveries"]?.objectValue ?? JSONObject()).reduce(0) {
            $0 + ($1.value.integerValue ?? 0)
        }
        html += "<div class=\"figures\">"
        for (value, label) in [
            ("\(returns?["returns"]?.integerValue ?? 0)", "returns"),
            ("\(returns?["sales"]?.integerValue ?? 0)", "sales"),
            (percent(returns?["rateBasisPoints"]), "return rate"),
            (hours(returns?["saleToReturnHours"]?["median"]), "median sale → return"),
            (hours(returns?["saleToReturnHours"]?["p90"]), "90% returned within"), ("\(failed)", "failed deliveries"),
        ] {
            html += "<div class=\"figure\"><b>\(escape(value))</b>\(escape(label))</div>"
        }
        html += "</div>"
        func tallies(_ member: String) -> [(String, Int64, String)] {
            (returns?[member]?.arrayValue ?? []).map {
                let returned = $0["returns"]?.integerValue ?? 0
                let sold = $0["sales"]?.integerValue ?? 0
                return (
                    $0["key"]?.stringValue ?? "", $0["rateBasisPoints"]?.integerValue ?? 0,
                    "\(percent($0["rateBasisPoints"])) (\(returned)/\(sold))"
                )
            }
        }
        html += bars("Return rate by product (GTIN)", tallies("byGTIN"), color: "#3b6fd8")
        html += bars("Return rate by retailer", tallies("byRetailer"), color: "#3b6fd8")
        html += bars("Return rate by channel", tallies("byChannel"), color: "#3b6fd8")
        html += bars(
            "Returns by month",
            (returns?["byMonth"]?.arrayValue ?? []).map {
                ($0["key"]?.stringValue ?? "", $0["returns"]?.integerValue ?? 0, "\($0["returns"]?.integerValue ?? 0)")
            },
            color: "#7a4fd1"
        )
        html += bars(
            "Why items come back",
            reasons.sorted { ($1.value.integerValue ?? 0, $0.key) < ($0.value.integerValue ?? 0, $1.key) }.map {
                ($0.key, $0.value.integerValue ?? 0, "\($0.value.integerValue ?? 0)")
            },
            color: "#d9822b"
        )
        let outcomes = report["recovery"]?["outcomes"]?.objectValue ?? JSONObject()
        html += bars(
            "What became of returned items",
            outcomes.filter { ($0.value.integerValue ?? 0) > 0 }.sorted { $0.key < $1.key }.map {
                ($0.key, $0.value.integerValue ?? 0, "\($0.value.integerValue ?? 0)")
            },
            color: "#2f9e62"
        )
        html +=
            "<p class=\"note\">Return to resale: median \(hours(report["recovery"]?["returnToResaleHours"]?["median"])), "
            + "90% within \(hours(report["recovery"]?["returnToResaleHours"]?["p90"])).</p>"
        html += "<section><h2>Recalls by lot</h2>"
        let recalls = report["recalls"]?.arrayValue ?? []
        if recalls.isEmpty {
            html += "<p class=\"none\">No recall recorded.</p>"
        } else {
            html +=
                "<table><tr><th>notice · lot</th><th>affected</th><th>remedied</th><th>taken out</th><th>in the field</th></tr>"
            for recall in recalls {
                html +=
                    "<tr><td>\(escape(recall["notice"]?.stringValue ?? "")) · \(escape(recall["lot"]?.stringValue ?? ""))</td>"
                    + "<td>\(recall["affected"]?.integerValue ?? 0)</td>"
                    + "<td>\((recall["remedied"]?.integerValue ?? 0) + (recall["notAffected"]?.integerValue ?? 0))</td>"
                    + "<td>\(recall["endOfLife"]?.integerValue ?? 0)</td><td><b>\(recall["stillInField"]?.integerValue ?? 0)</b></td></tr>"
            }
            html += "</table>"
        }
        html += "</section><section><h2>Fraud signals (pseudonymous)</h2><table>"
        let fraud = report["fraud"]
        for (label, value) in [
            ("stolen units back at a dock", fraud?["stolenResurfaced"]?["total"]?.integerValue ?? 0),
            ("lost units back at a dock", fraud?["lostResurfaced"]?.integerValue ?? 0),
            ("serials returned again after a new sale", fraud?["serialsReturnedAgain"]?.integerValue ?? 0),
            ("repeat returners (salted digests)", Int64(fraud?["repeatReturners"]?.arrayValue?.count ?? 0)),
            ("returns after the return window", returns?["afterWindow"]?.integerValue ?? 0),
        ] {
            html += "<tr><td>\(escape(label))</td><td><b>\(value)</b></td></tr>"
        }
        html +=
            "</table><p class=\"note\">Flagged dock scans (clones after end of life, double claims, mismatches, "
            + "attempts out of window or at the wrong channel) come from the docks' signed scan journals: "
            + "<code>retrace insights --scans</code>.</p></section>"
        html +=
            "<p class=\"note\">The same figures as JSON: <a href=\"/v1/insights\">/v1/insights</a>.</p></main></body></html>\n"
        return html
    }
}
