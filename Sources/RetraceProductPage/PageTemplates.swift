/// The page's Mustache templates, compiled into the binary so a copied `retrace` executable
/// serves pages without a resource folder beside it. `{{…}}` escapes HTML; nothing uses `{{{…}}}`.
enum PageTemplates {
    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Retrace</title>
        <style>
        :root { color-scheme: light; --ink: #1a1a1a; --muted: #4a4a4a; --line: #d0d0d0;
          --ok-bg: #e6f4ea; --ok-ink: #0b5124; --warn-bg: #fff4ce; --warn-ink: #5c4300;
          --bad-bg: #fde7e9; --bad-ink: #8a0a16; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
          background: #fff; }
        header, main, footer { max-width: 44rem; margin: 0 auto; padding: 0 1rem; }
        header { padding-top: 1rem; font-weight: 700; letter-spacing: .02em; color: var(--muted); }
        h1 { font-size: 1.6rem; line-height: 1.25; margin: .2rem 0 .4rem; }
        h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; }
        h3 { font-size: 1.05rem; margin: 0; }
        .status { border-radius: .6rem; padding: 1rem 1.2rem; margin-top: .8rem; border: 2px solid currentColor; }
        .status p { margin: .3rem 0 0; }
        .status-verified { background: var(--ok-bg); color: var(--ok-ink); }
        .status-warning { background: var(--warn-bg); color: var(--warn-ink); }
        .status-danger { background: var(--bad-bg); color: var(--bad-ink); }
        .badge { display: inline-block; font-size: .85rem; font-weight: 700; text-transform: uppercase;
          letter-spacing: .05em; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
        dt { color: var(--muted); }
        dd { margin: 0; overflow-wrap: anywhere; }
        .nowrap { white-space: nowrap; overflow-wrap: normal; font-variant-numeric: tabular-nums; }
        .product-name { font-size: 1.3rem; font-weight: 700; margin: .2rem 0 0; }
        .product-id { color: var(--muted); margin: 0 0 .6rem; }
        ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 3px solid var(--line); }
        ol.timeline > li { position: relative; padding: 0 0 1.1rem 1.2rem; }
        ol.timeline > li::before { content: ""; position: absolute; left: -.55rem; top: .35rem; width: .8rem;
          height: .8rem; border-radius: 50%; background: #fff; border: 3px solid var(--muted); }
        ol.timeline > li.flag::before { border-color: var(--bad-ink); }
        .when, .who { color: var(--muted); margin: .1rem 0 0; }
        .facts { margin: .2rem 0 0; padding-left: 1.1rem; }
        .button { display: inline-block; background: #0b4f8a; color: #fff; padding: .6rem 1rem; border-radius: .4rem;
          text-decoration: none; font-weight: 600; }
        .button:focus, a:focus { outline: 3px solid #f0a500; outline-offset: 2px; }
        code { font-size: .9em; background: #f2f2f2; padding: .1rem .3rem; border-radius: .2rem;
          overflow-wrap: anywhere; }
        footer { color: var(--muted); font-size: .9rem; padding-bottom: 2rem; margin-top: 2rem; }
        </style>
        </head>
        <body>
        <header>Retrace · verified product history</header>
        <main>
        {{> content}}
        </main>
        <footer><p>Retrace shows no personal data: customers and orders appear only as one-way digests,
        and none are displayed here.</p></footer>
        </body>
        </html>
        """

    static let product = """
        <section class="status status-{{status.kind}}" role="status" aria-labelledby="status-title">
        <span class="badge">{{status.badge}}</span>
        <h1 id="status-title">{{status.headline}}</h1>
        {{#status.lines}}<p>{{.}}</p>{{/status.lines}}
        </section>

        <section aria-labelledby="item-title">
        <h2 id="item-title">The item</h2>
        {{#productClass}}<p class="product-name">{{productClass.title}}</p>
        <p class="product-id">GTIN <span class="nowrap">{{gtin}}</span> · described by {{productClass.brand}}</p>{{/productClass}}
        <dl>
        <dt>Product (GTIN)</dt><dd class="nowrap">{{gtin}}</dd>
        <dt>Serial number</dt><dd>{{serial}}</dd>
        <dt>Brand owner</dt><dd>{{brand}}</dd>
        <dt>Now</dt><dd>{{phase}}</dd>
        {{#grade}}<dt>Condition grade</dt><dd>{{grade}}</dd>{{/grade}}
        {{#warranty}}<dt>Refurbishment warranty</dt><dd>{{warranty}}</dd>{{/warranty}}
        </dl>
        </section>

        <section aria-labelledby="life-title">
        <h2 id="life-title">Its life, step by step</h2>
        <ol class="timeline">
        {{#events}}
        <li{{#flag}} class="flag"{{/flag}}>
        <h3>{{headline}}</h3>
        <p class="when"><time datetime="{{time}}">{{date}}</time>{{#place}} · site GLN {{place}}{{/place}}</p>
        <p class="who">Vouched for by <strong>{{party}}</strong>, {{role}}</p>
        {{#hasFacts}}<ul class="facts">{{#facts}}<li>{{.}}</li>{{/facts}}</ul>{{/hasFacts}}
        </li>
        {{/events}}
        </ol>
        <p>Every step above was signed by the business that performed it and recorded in an append-only,
        publicly checkable log.</p>
        </section>

        <section aria-labelledby="check-title">
        <h2 id="check-title">Check it yourself</h2>
        <p><a class="button" href="{{bundleURL}}" download>Download the offline proof bundle</a></p>
        <p>The bundle holds every signed step and the proofs that tie them to the ledger's signed checkpoint.
        Anyone with the ledger's two public keys can check it without trusting this website:</p>
        <p><code>retrace verify-bundle {{bundleFile}} --governance-key governance.pub --log-key log.pub</code></p>
        <p>Checked just now against signed checkpoint {{checkpoint.size}} of <code>{{checkpoint.origin}}</code>
        (root <code>{{checkpoint.root}}</code>).</p>
        {{#witnessed}}<p class="witnessed">Independent witnesses: {{witnessed}}.</p>{{/witnessed}}
        </section>
        """

    static let notice = """
        <section class="status status-{{kind}}" role="status" aria-labelledby="status-title">
        <span class="badge">{{badge}}</span>
        <h1 id="status-title">{{headline}}</h1>
        {{#lines}}<p>{{.}}</p>{{/lines}}
        </section>
        {{#identity}}
        <section aria-labelledby="item-title">
        <h2 id="item-title">What was scanned</h2>
        <dl><dt>Product (GTIN)</dt><dd class="nowrap">{{gtin}}</dd><dt>Serial number</dt><dd>{{serial}}</dd></dl>
        </section>
        {{/identity}}
        """
}
