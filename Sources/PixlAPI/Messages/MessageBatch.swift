import HTTPTypes
import PixlCore

/// The body of `POST /messages`: one message object or an array of them, each decoded by PixlCore's decoder.
enum MessageBatch {
    /// The messages of `body`, or the answer refusing it: 400 not JSON, 422 with every bad message's
    /// problem (`loc`, `index`, `field`, `msg`), 413 beyond `maxBatchSize`.
    static func decode(_ body: [UInt8], maxBatchSize: Int) throws(APIError) -> [ImagingMessage] {
        guard !body.isEmpty else { throw APIError(.unprocessableContent, "The body is empty: send one message object or an array of them") }
        let parsed: (value: PythonJSON, elements: [ArraySlice<UInt8>]?)
        do {
            parsed = try PythonJSONParser.parseWithElementRanges(body)
        } catch {
            throw APIError(.badRequest, "The body is not valid JSON: \(error.message) at character \(error.position)")
        }
        var messages: [ImagingMessage] = []
        var problems: [PythonJSON] = []
        func decode(_ bytes: [UInt8], index: Int?) {
            do {
                messages.append(try MessageDecoder.decode(bytes))
            } catch {
                var loc: [PythonJSON] = [.string("body")]
                if let index { loc.append(.int(String(index))) }
                if let field = error.field { loc.append(.string(field)) }
                problems.append(
                    .object([
                        (key: "loc", value: .array(loc)),
                        (key: "index", value: index.map { .int(String($0)) } ?? .null),
                        (key: "field", value: error.field.map(PythonJSON.string) ?? .null),
                        (key: "msg", value: .string(index.map { "message \($0): \(error)" } ?? "\(error)")),
                    ])
                )
            }
        }
        switch parsed.value {
        case .array(let elements):
            guard !elements.isEmpty else { throw APIError(.unprocessableContent, "The array holds no messages") }
            guard elements.count <= maxBatchSize else {
                throw APIError(.contentTooLarge, "At most \(maxBatchSize) messages per request (had \(elements.count))")
            }
            for (index, bytes) in (parsed.elements ?? []).enumerated() { decode(Array(bytes), index: index) }
        case .object:
            decode(body, index: nil)
        default:
            throw APIError(.unprocessableContent, "The body must be a message object or an array of message objects")
        }
        guard problems.isEmpty else { throw APIError(status: .unprocessableContent, detail: .array(problems)) }
        return messages
    }
}
