import Testing

@testable import PixlCore

/// ``JSONValue/jsonText(number:)``: what the parser reads, written back, reads to the same value.
struct JSONValueWritingTests {
    @Test(arguments: [
        (#" {"a": [true, false, null, -0, 1.50e-3, 92233720368547758070], "b": {}, "": [[]]} "#, JSONParser.Options.message),
        (#"{"k\"\\\/\b\f\n\r\t\u0001\u00e9\ud83d\ude00": "é\u001f"}"#, .message),
        (#"[NaN, Infinity, -Infinity, 1E+2, "\ud800"]"#, .python),
    ])
    func writtenValuesReadBackUnchanged(document: String, options: JSONParser.Options) throws {
        let value = try JSONParser.parse(Array(document.utf8), options: options)
        let text = value.jsonText()
        #expect(try JSONParser.parse(Array(text.utf8), options: options) == value, "\(text)")
    }

    @Test func writesCompactlyInOrderWithLiteralsKept() throws {
        let value = try JSONParser.parse(Array(#"{ "b" : 1.50, "a" : [ "x\ty", null, 7 ] }"#.utf8), options: .message)
        #expect(value.jsonText() == #"{"b":1.50,"a":["x\ty",null,7]}"#)
        #expect(JSONValue.quoted("\u{08}\u{0C}\u{01}\"\\é") == #""\b\f\u0001\"\\é""#)
    }
}
