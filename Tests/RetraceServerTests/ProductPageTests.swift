import CanonicalJSON
import LoopbackHTTP
import RetraceIdentity
import RetraceSimulation
import Testing

extension ServerTests {
    /// The page behind the GS1 Digital Link on an item: one canonical address per item, HTML for a
    /// browser and JSON for a program, a clear verified or warning state, and no personal data.
    @Suite("Product page")
    struct ProductPageTests {
        static func path(_ product: SGTIN) -> String {
            String(product.digitalLink.dropFirst("https://id.gs1.org".count))
        }

        /// The page's visible words, tags stripped (what a person reads).
        static func words(_ html: String) -> String {
            var text = ""
            var inTag = false
            for character in html {
                if character == "<" {
                    inTag = true
                } else if character == ">" {
                    inTag = false
                    text.append(" ")
                } else if !inTag {
                    text.append(character)
                }
            }
            return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                .replacingOccurrences(of: "&#39;", with: "'")
        }

        @Test("A refurbished item's page says verified and tells its life, with a bundle download")
        func refurbished() async throws {
            let fixture = try await ServerFixture.shared.value
            let response = try await fixture.get(Self.path(fixture.script.showcase), accept: "text/html,*/*;q=0.8")
            #expect(response.status == 200)
            #expect(response.header("content-type") == "text/html; charset=utf-8")
            #expect(response.header("content-security-policy")?.contains("default-src 'none'") == true)
            let text = Self.words(response.text)
            #expect(text.contains("Genuine, with a verified history"))
            #expect(text.contains("Certified refurbished"))
            #expect(text.contains("Vouched for by Proseware Renew , refurbisher"))
            #expect(text.contains("Download the offline proof bundle"))
            #expect(!response.text.contains("<script"))
            #expect(response.text.contains("lang=\"en\""))
            // Issue 16 point 21: what the refurbisher signed, in words, with the warranty's end date.
            #expect(text.contains("Certified under R2v3, certificate R2V3-2024-0117"), "\(text)")
            #expect(text.contains("Work done: screen replaced, battery replaced, deep clean"))
            #expect(text.contains("Parts replaced: display, battery"))
            #expect(text.contains("Tests passed: battery health, display, cellular, camera, water seal"))
            #expect(
                text.range(of: "Warranty: 12 months, until 20[0-9]{2}-[0-9]{2}-[0-9]{2}", options: .regularExpression)
                    != nil
            )
            #expect(text.contains("12 months from refurbishment, until "))
            #expect(text.contains("Resold as certified pre-owned"))
            #expect(!text.contains("screen-replaced") && !text.contains("battery-wear"), "no raw codes")
            // Point 22: after a trade-in the item is not "received back" like a customer's return.
            #expect(text.contains("Received after the trade-in"))
            #expect(!text.contains("Received back at a returns dock"))
            #expect(text.contains("Every step above was signed"))
            // Point 20: the brand owner's signed name and model title the page; the GTIN is a
            // secondary line that never wraps mid-number.
            #expect(response.text.contains("<title>Northwind Phone X NX-26 / "), "\(response.text.prefix(400))")
            #expect(response.text.contains("<p class=\"product-name\">Northwind Phone X NX-26</p>"))
            #expect(response.text.contains("GTIN <span class=\"nowrap\">09506000134352</span>"))
            #expect(response.text.contains("white-space: nowrap"))
            // Digests (orders, customers) never reach the page.
            #expect(response.text.range(of: "[0-9a-f]{64}", options: .regularExpression) == nil)
        }

        @Test("A recycled item's page warns that it should not exist")
        func recycled() async throws {
            let fixture = try await ServerFixture.shared.value
            let recycled = try #require(fixture.script.recycledProducts.first)
            let text = Self.words(try await fixture.get(Self.path(recycled)).text)
            #expect(text.contains("Warning: this item was recycled"))
            #expect(text.contains("Do not trust"))
        }

        @Test("An unknown serial is a 404 page saying there is no record")
        func unknown() async throws {
            let fixture = try await ServerFixture.shared.value
            let response = try await fixture.get("/01/09506000134352/21/NEVERMADE1")
            #expect(response.status == 404)
            #expect(Self.words(response.text).contains("No record of this item"))
            // Point 22: no steps are shown, so the page does not claim that the steps above were signed.
            #expect(!Self.words(response.text).contains("Every step above"))
        }

        @Test("Other spellings of the identity redirect to the canonical path")
        func redirects() async throws {
            let fixture = try await ServerFixture.shared.value
            let canonical = Self.path(fixture.script.showcase)
            let gtin13 = String(fixture.script.showcase.gtin.digits.dropFirst())
            for spelling in [
                "/01/\(gtin13)/21/\(fixture.script.showcase.serial.value)",
                canonical + "?linkType=gs1:pip",
                "/01/\(fixture.script.showcase.gtin.digits)/10/LOT7/21/\(fixture.script.showcase.serial.value)",
            ] {
                let response = try await fixture.get(spelling)
                #expect(response.status == 301, "\(spelling)")
                #expect(response.header("location") == canonical, "\(spelling)")
            }
            let bad = try await fixture.get("/01/not-a-gtin")
            #expect(bad.status == 404)
            // Point 22: a buyer never typed the link, so the page names no position in it.
            let short = try await fixture.get("/01/123/21/ABC")
            #expect(short.status == 404)
            let words = Self.words(short.text)
            #expect(words.contains("This is not a valid product code"))
            #expect(!words.contains("at position") && !words.contains("digits"), "\(words)")
        }

        @Test("Accept: application/json returns the history document")
        func json() async throws {
            let fixture = try await ServerFixture.shared.value
            let response = try await fixture.get(Self.path(fixture.script.showcase), accept: "application/json")
            #expect(response.header("content-type") == "application/json")
            let history = try CanonicalJSON.decode(response.body)
            #expect(history["product"]?.stringValue == fixture.script.showcase.digitalLink)
        }
    }
}
