/// The first place where an input value and the re-encoding of what was decoded from it disagree.
///
/// `decodeExact` uses it to refuse input members a Codable type silently drops. Objects are walked in
/// canonical key order, so "first" means first in the signed byte form.
struct JSONDifference {
    enum Kind {
        /// A member present in the input that the re-encoding lacks.
        case extraInInput
        /// A member the re-encoding has that the input lacks (e.g. a default added by the type).
        case missingInInput
        /// Same place, different values (or different array lengths).
        case valueDiffers
    }

    let kind: Kind
    let path: String
    let inputValue: JSONValue?
    let reencodedValue: JSONValue?

    /// The difference as an error: `unknownField` for extra input members, `roundTripMismatch` otherwise.
    func error(typeName: String) -> CanonicalJSONError {
        switch kind {
        case .extraInInput:
            let shown = inputValue.map { "\($0)" } ?? "?"
            return CanonicalJSONError(
                .unknownField,
                "\(path): member \(shown) is not carried by \(typeName)",
                path: path
            )
        case .missingInInput:
            let shown = reencodedValue.map { "\($0)" } ?? "?"
            return CanonicalJSONError(
                .roundTripMismatch,
                "\(path): \(typeName) re-encodes a member \(shown) that the input lacks",
                path: path
            )
        case .valueDiffers:
            let input = inputValue.map { "\($0)" } ?? "nothing"
            let output = reencodedValue.map { "\($0)" } ?? "nothing"
            return CanonicalJSONError(
                .roundTripMismatch,
                "\(path): input has \(input) but \(typeName) re-encodes \(output)",
                path: path
            )
        }
    }

    /// The first difference, or nil when both values are identical.
    static func first(input: JSONValue, reencoded: JSONValue) -> JSONDifference? {
        var components: [CodingPath.Component] = []
        return first(input, reencoded, &components)
    }

    private static func first(
        _ input: JSONValue,
        _ output: JSONValue,
        _ components: inout [CodingPath.Component]
    ) -> JSONDifference? {
        switch (input, output) {
        case let (.object(inputObject), .object(outputObject)):
            return firstInObjects(inputObject, outputObject, &components)
        case let (.array(inputArray), .array(outputArray)):
            for index in 0..<min(inputArray.count, outputArray.count) {
                components.append(.index(index))
                if let found = first(inputArray[index], outputArray[index], &components) { return found }
                components.removeLast()
            }
            if inputArray.count != outputArray.count {
                let index = min(inputArray.count, outputArray.count)
                components.append(.index(index))
                defer { components.removeLast() }
                return JSONDifference(
                    kind: .valueDiffers,
                    path: CodingPath.render(components: components),
                    inputValue: index < inputArray.count ? inputArray[index] : nil,
                    reencodedValue: index < outputArray.count ? outputArray[index] : nil
                )
            }
            return nil
        default:
            if input == output { return nil }
            return JSONDifference(
                kind: .valueDiffers,
                path: CodingPath.render(components: components),
                inputValue: input,
                reencodedValue: output
            )
        }
    }

    private static func firstInObjects(
        _ input: JSONObject,
        _ output: JSONObject,
        _ components: inout [CodingPath.Component]
    ) -> JSONDifference? {
        var i = 0
        var j = 0
        while i < input.count || j < output.count {
            let order: Int
            if i == input.count {
                order = 1
            } else if j == output.count {
                order = -1
            } else {
                order = UTF16KeyOrder.compare(input[i].key, output[j].key)
            }
            let key = order <= 0 ? input[i].key : output[j].key
            components.append(.key(key))
            defer { components.removeLast() }
            if order < 0 {
                return JSONDifference(
                    kind: .extraInInput,
                    path: CodingPath.render(components: components),
                    inputValue: input[i].value,
                    reencodedValue: nil
                )
            }
            if order > 0 {
                return JSONDifference(
                    kind: .missingInInput,
                    path: CodingPath.render(components: components),
                    inputValue: nil,
                    reencodedValue: output[j].value
                )
            }
            if let found = first(input[i].value, output[j].value, &components) { return found }
            i += 1
            j += 1
        }
        return nil
    }
}
