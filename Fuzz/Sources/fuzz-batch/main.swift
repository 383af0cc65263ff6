import FuzzChecks
import PixlCore

/// libFuzzer's entry point: one `POST /messages` body, read as the API reads it (`MessageBatch`): UTF-8 checked,
/// parsed once with Python's options and each item held to a message's, then each item decoded.
///
/// Properties: nothing traps; a body Python's options refuse, a message's refuse too, with the error a plain parse
/// gives; each item has the value or the first fault it would have alone, and decodes as its bytes would alone;
/// each message round-trips and each error repeats nothing of the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBatch(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let document = Array(UnsafeRawBufferPointer(start: start, count: count))
    // The API answers 400 to invalid UTF-8 before parsing.
    guard String(validating: document, as: UTF8.self) != nil else { return 0 }
    let batch: JSONParser.Batch
    do throws(JSONParseError) {
        batch = try JSONParser.parseBatch(document, options: .python, itemOptions: .message)
    } catch {
        Check.require((try? JSONParser.parse(document, options: .message)) == nil, "a message's options accept what Python's refuse")
        let plain = Result { () throws(JSONParseError) in try JSONParser.parse(document, options: .python) }
        guard case .failure(let alone) = plain else {
            Check.require(false, "parseBatch refuses a document that parse accepts")
            return 0
        }
        Check.require(
            alone.reason == error.reason && alone.offset == error.offset && alone.characterOffset == error.characterOffset,
            "parseBatch and parse refuse a document differently")
        return 0
    }
    for item in batch.items {
        let bytes = Array(document[item.bytes])
        switch Result(catching: { () throws(JSONParseError) in try JSONParser.parse(bytes, options: .message) }) {
        case .success(let value):
            Check.require(item.violation == nil && item.value == value, "an item reads differently from its bytes alone")
        case .failure(let error):
            Check.require(item.violation == error, "an item's fault differs from its bytes' alone")
        }
        let viaBatch: Result<ImagingMessage, MessageDecodingError>
        if let violation = item.violation {
            viaBatch = .failure(MessageDecodingError(violation))
        } else {
            viaBatch = Result { () throws(MessageDecodingError) in try MessageDecoder.decode(item.value) }
        }
        let viaBytes = Result { () throws(MessageDecodingError) in try MessageDecoder.decode(bytes) }
        Check.require(viaBatch == viaBytes, "an item of a batch decodes differently from its bytes alone")
        switch viaBatch {
        case .success(let message): Check.messageRoundTrips(message)
        case .failure(let error): Check.errorRepeatsNothing(error, inputCount: count)
        }
    }
    return 0
}
