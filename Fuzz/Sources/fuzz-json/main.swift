import FuzzChecks
import PixlCore

/// libFuzzer's entry point: one document, parsed under both option sets of ``JSONParser``.
///
/// Properties: parsing never traps; what is read writes back and reads again to the same value; an error's offsets
/// lie within the document; `parseBatch` reads a document as `parse` does; what a message's options accept,
/// Python's accept too, with the same value (their `NaN` aside).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let document = Array(UnsafeRawBufferPointer(start: start, count: count))
    let message = parse(document, options: .message)
    let python = parse(document, options: .python)
    for (result, options) in [(message, JSONParser.Options.message), (python, .python)] {
        switch result {
        case .success(let value):
            let text = Array(value.jsonText().utf8)
            Check.require(parse(text, options: options) == .success(value), "a value written back does not read to itself")
        case .failure(let error):
            Check.require((0...count).contains(error.offset), "an error's offset lies outside the document")
            Check.require((0...count).contains(error.characterOffset), "an error's character offset lies outside the document")
        }
        let batch = Result { () throws(JSONParseError) in try JSONParser.parseBatch(document, options: options).value }
        Check.require(comparable(batch) == comparable(result), "parseBatch and parse read a document differently")
    }
    if case .success(let value) = message {
        Check.require((try? python.get().nanAsNull) == value, "a document a message's options accept reads differently under Python's")
    }
    return 0
}

func parse(_ document: [UInt8], options: JSONParser.Options) -> Result<JSONValue, JSONParseError> {
    Result { () throws(JSONParseError) in try JSONParser.parse(document, options: options) }
}

/// An outcome without what depends on where the root is: a batch's items are roots of their own, so the key
/// reported with an error, and whether a duplicate key is the root's, may differ from a plain parse.
func comparable(_ result: Result<JSONValue, JSONParseError>) -> Result<JSONValue, JSONParseError> {
    result.mapError { error in
        var error = error
        error.topLevelKey = nil
        if case .duplicateKey = error.reason { error.reason = .duplicateKey(topLevel: false) }
        return error
    }
}
