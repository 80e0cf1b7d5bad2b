/// Renders coding paths as `details.parts[2].serial`, the form used in every bridging error.
enum CodingPath {
    /// One step of a path: an object member or an array position.
    enum Component {
        case key(String)
        case index(Int)
    }

    /// The printable form of a path: `.name` for identifier-like keys (no dot first), `["odd key"]`
    /// otherwise, `[2]` for array positions; the empty path is shown as `<root>`.
    static func render(components: [Component]) -> String {
        var text = ""
        for component in components {
            switch component {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key):
                let plain =
                    !key.isEmpty
                    && key.utf8.allSatisfy { byte in
                        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                            || (byte >= 0x61 && byte <= 0x7A)
                            || byte == 0x5F || byte == 0x2D
                    }
                if plain {
                    text += text.isEmpty ? key : "." + key
                } else {
                    text += "[" + JSONValue.string(key).description + "]"
                }
            }
        }
        return text.isEmpty ? "<root>" : text
    }

    /// The printable form of a Codable coding path.
    static func render(_ keys: [any CodingKey]) -> String {
        render(
            components: keys.map { key in
                if let indexKey = key as? IndexKey { return .index(indexKey.index) }
                return .key(key.stringValue)
            }
        )
    }
}
