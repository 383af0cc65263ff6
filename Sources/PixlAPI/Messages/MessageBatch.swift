import HTTPTypes
import PixlCore

/// The body of `POST /messages`: one message object, or an array of them (SPEC §4).
enum MessageBatch {
    /// Reads the body once, decoding each message as soon as its value is read and keeping only the messages: a batch
    /// of 10,000 costs its body and its messages in memory, never the whole document's parsed values.
    ///
    /// The body as a whole is read as PIXL's FastAPI reads it (Python's `json.loads`); each message is held
    /// to ``JSONParser/Options/message`` as when it arrives alone, so a duplicate key, a lone surrogate or
    /// `Infinity` in one message, or a byte order mark before a single message, is that message's problem.
    /// - Parameters:
    ///   - body: the request body.
    ///   - maxBatchSize: the most messages one request may hold.
    /// - Returns: the messages, validated, in body order.
    /// - Throws: ``APIError``: 400 for a body that is not JSON; 422 for an empty body or array, for a body
    ///   that is neither a message object nor an array, and with `{"loc", "index", "field", "msg"}` for
    ///   every message that cannot be decoded; 413 beyond `maxBatchSize`.
    static func decode(_ body: [UInt8], maxBatchSize: Int) throws(APIError) -> [ImagingMessage] {
        guard !body.isEmpty else { throw APIError(.unprocessableContent, "The body is empty: send one message object or an array of them") }
        var messages: [ImagingMessage] = []
        var problems: [(index: Int, error: MessageDecodingError)] = []
        var count = 0
        var firstIsObject = false
        let shape: JSONParser.Batch.Shape
        do {
            shape = try PythonJSON.forEachItem(of: body, itemOptions: .message) { item in
                defer { count += 1 }
                // Beyond the limit the rest is only read through (a 413 follows, or a 400 if it is not JSON).
                guard count < maxBatchSize else { return }
                if count == 0, case .object = item.value { firstIsObject = true }
                do throws(MessageDecodingError) {
                    if let violation = item.violation { throw MessageDecodingError(violation) }
                    messages.append(try MessageDecoder.decode(item.value))
                } catch {
                    problems.append((count, error))
                }
            }
        } catch {
            throw APIError(.badRequest, "The body is not valid JSON: \(error.message) at character \(error.position)")
        }
        switch shape {
        case .array:
            guard count > 0 else { throw APIError(.unprocessableContent, "The array holds no messages") }
            guard count <= maxBatchSize else {
                throw APIError(.contentTooLarge, "At most \(maxBatchSize) messages per request (had \(count))")
            }
        case .single:
            // A single value is the one item.
            guard firstIsObject else {
                throw APIError(.unprocessableContent, "The body must be a message object or an array of message objects")
            }
        }
        guard problems.isEmpty else {
            throw APIError(status: .unprocessableContent, detail: .array(problems.map { problem($0.error, index: shape == .array ? $0.index : nil) }))
        }
        return messages
    }

    /// One message's problem: where it is, the field at fault and the error's text (never a value).
    private static func problem(_ error: MessageDecodingError, index: Int?) -> JSONValue {
        var loc: [JSONValue] = [.string("body")]
        if let index { loc.append(.integer(Int64(index))) }
        if let field = error.field { loc.append(.string(field)) }
        return .object([
            "loc": .array(loc),
            "index": index.map { .integer(Int64($0)) } ?? .null,
            "field": error.field.map(JSONValue.string) ?? .null,
            "msg": .string(index.map { "message \($0): \(error)" } ?? error.description),
        ])
    }
}
