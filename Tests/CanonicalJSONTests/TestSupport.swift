import CanonicalJSON

/// UTF-8 bytes of a Swift string literal, for writing JSON inputs readably.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The error `CanonicalJSON.decode` throws for `input`, or nil when it is accepted.
func refusal(_ input: [UInt8], options: ReadOptions = .strict) -> CanonicalJSONError? {
    do {
        _ = try CanonicalJSON.decode(input, options: options)
        return nil
    } catch let error as CanonicalJSONError {
        return error
    } catch {
        return CanonicalJSONError(.unexpectedCharacter, "unexpected error type: \(error)")
    }
}

/// The `CanonicalJSONError` thrown by `body`, or nil if it succeeds or throws something else.
func caught<T>(_ body: () throws -> T) -> CanonicalJSONError? {
    do {
        _ = try body()
        return nil
    } catch let error as CanonicalJSONError {
        return error
    } catch {
        return nil
    }
}

/// Decodes leniently and re-encodes: the canonical form of any accepted JSON text.
func canonicalize(_ text: String) throws -> String {
    let value = try CanonicalJSON.decode(bytes(text), options: .lenient)
    return String(decoding: try CanonicalJSON.encode(value), as: UTF8.self)
}

/// Byte offset of the first occurrence of `needle` in the UTF-8 of `text`.
func byteOffset(of needle: String, in text: String) -> Int? {
    let haystack = Array(text.utf8)
    let pattern = Array(needle.utf8)
    guard !pattern.isEmpty, pattern.count <= haystack.count else { return nil }
    for start in 0...(haystack.count - pattern.count) where Array(haystack[start..<start + pattern.count]) == pattern {
        return start
    }
    return nil
}
