import PixlCore

/// Validates a `POST /token-bucket-refresh-rate` body exactly as PIXL's FastAPI + pydantic 2 (lax mode) do,
/// except that a rate that is not finite is refused (422) instead of stored.
enum RateUpdate {
    /// Either the new rate, or the status and JSON body to answer with.
    enum Decision: Equatable {
        case accept(Double)
        case reject(status: Int, body: String)
    }

    static func decide(body: [UInt8], contentType: String?) -> Decision {
        // FastAPI: an empty body is a missing one, whatever the content type.
        guard !body.isEmpty else { return missingBody }
        let input: JSONValue
        if isJSON(contentType: contentType) {
            do {
                input = try PythonJSON.parse(body)
            } catch {
                return validationError(
                    type: "json_invalid",
                    loc: [.string("body"), .integer(Int64(error.position))],
                    msg: "JSON decode error",
                    input: .object([]),
                    ctx: .object(["error": .string(error.message)])
                )
            }
        } else {
            // Any other content type: the raw body is the input (bytes, shown decoded).
            input = .string(String(decoding: body, as: UTF8.self))
        }
        if case .null = input { return missingBody }
        guard case .object = input else {
            return validationError(
                type: "model_attributes_type",
                loc: [.string("body")],
                msg: "Input should be a valid dictionary or object to extract fields from",
                input: input
            )
        }
        guard let value = input["rate"] else {
            return validationError(type: "missing", loc: [.string("body"), .string("rate")], msg: "Field required", input: input)
        }
        let rate: Double
        switch value {
        case .integer(let number): rate = Double(number)
        case .number(let literal): rate = Double(literal) ?? .nan
        case .bool(let flag): rate = flag ? 1 : 0
        case .string(let text):
            guard let parsed = parseFloat(text) else {
                return validationError(
                    type: "float_parsing",
                    loc: [.string("body"), .string("rate")],
                    msg: "Input should be a valid number, unable to parse string as a number",
                    input: value
                )
            }
            rate = parsed
        case .null, .array, .object:
            return validationError(type: "float_type", loc: [.string("body"), .string("rate")], msg: "Input should be a valid number", input: value)
        }
        // Deviation from PIXL (SPEC §5): it stores inf and NaN, then answers 500 to every GET.
        guard rate.isFinite else {
            return validationError(type: "finite_number", loc: [.string("body"), .string("rate")], msg: "Input should be a finite number", input: value)
        }
        if rate < 0 {
            return .reject(
                status: 406,
                body: JSONValue.object(["detail": .string("Refresh rate mush be a positive integer. Had \(pythonFloatRepr(rate))")])
                    .serialized()
            )
        }
        // Beyond PIXL: a rate no clock can pace by (1e-30 a second) or no limit at all is refused.
        guard RateLimits.allows(rate) else {
            return validationError(
                type: "value_error",
                loc: [.string("body"), .string("rate")],
                msg: "Value error, the rate must be \(RateLimits.description)",
                input: value
            )
        }
        return .accept(rate)
    }

    /// `{"rate":<float>}` as PIXL's GET answers.
    static func rateBody(_ rate: Double) -> String {
        JSONValue.object(["rate": .float(rate)]).serialized()
    }

    private static var missingBody: Decision {
        validationError(type: "missing", loc: [.string("body")], msg: "Field required", input: .null)
    }

    private static func validationError(type: String, loc: [JSONValue], msg: String, input: JSONValue, ctx: JSONValue? = nil) -> Decision {
        var error: [JSONValue.Member] = [
            .init(key: "type", value: .string(type)), .init(key: "loc", value: .array(loc)), .init(key: "msg", value: .string(msg)),
            .init(key: "input", value: input),
        ]
        if let ctx { error.append(.init(key: "ctx", value: ctx)) }
        return .reject(status: 422, body: JSONValue.object(["detail": .array([.object(error)])]).serialized())
    }

    /// FastAPI reads the body as JSON when there is no content type, or when it is `application/json` or
    /// `application/*+json` (parameters ignored, case-insensitive; an unparseable type counts as `text/plain`).
    static func isJSON(contentType: String?) -> Bool {
        guard let contentType, !contentType.isEmpty else { return true }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .trimmingCharacters(in: " \t").lowercased()
        let parts = mediaType.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "application" else { return false }
        return parts[1] == "json" || parts[1].hasSuffix("+json")
    }

    /// pydantic's string-to-float: surrounding whitespace ignored, decimal or exponent notation, `inf`, `nan`.
    static func parseFloat(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: " \t\n\r\u{0B}\u{0C}")
        guard !trimmed.isEmpty else { return nil }
        let lowered = trimmed.lowercased()
        // Swift's Double(_:) also reads hexadecimal floats, which pydantic does not.
        if lowered.contains("x") || lowered.contains("p") { return nil }
        let allowed = Set("0123456789+-.einftya")
        guard lowered.allSatisfy({ allowed.contains($0) }) else { return nil }
        return Double(lowered)
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
