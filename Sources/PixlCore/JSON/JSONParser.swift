/// The project's JSON parser: RFC 8259, plus what its ``Options`` accept.
///
/// Foundation's `JSONSerialization` cannot be used: it refuses `NaN` (which PIXL's CLI sends for an empty
/// CSV cell), silently keeps the last of duplicate keys and loses the order of members. This parser refuses,
/// with the byte offset, invalid UTF-8, unescaped control characters, bad escapes, data after the value and
/// whatever the options refuse. Work is linear in the document's size and recursion is bounded by
/// ``Options/maximumDepth``, so no input can trap it or make it stall.
///
/// ```swift
/// let value = try JSONParser.parse(body, options: .message)
/// ```
public struct JSONParser {
    // MARK: Member variables

    let bytes: [UInt8]
    private let options: Options
    /// The options each item of a batch is checked against.
    private let itemOptions: Options?
    var position = 0
    private var depth = 0
    /// Where the text starts: after a skipped byte order mark (Python counts characters from there).
    private var textStart = 0
    /// The depth of the root value: 0 for the document, the array's for an item of a batch.
    private var rootDepth = 0
    /// The key of the root object's member being parsed, reported with errors.
    private var rootKey: String?
    /// Where each batch item goes once read; and about the current one: its first byte, the options it is checked
    /// against (`nil` outside an item) and the first fault they refuse.
    private var onItem: ((Batch.Item) -> Void)?
    private var itemStart = 0
    private var itemRules: Options?
    private var itemViolation: JSONParseError?

    // MARK: Initialization

    private init(bytes: [UInt8], options: Options, itemOptions: Options?, onItem: ((Batch.Item) -> Void)? = nil) {
        self.bytes = bytes
        self.options = options
        self.itemOptions = itemOptions
        self.onItem = onItem
    }

    // MARK: Methods

    /// Parses a whole document: exactly one JSON value, optionally surrounded by whitespace.
    /// - Parameters:
    ///   - document: the bytes, UTF-8.
    ///   - options: what to accept beyond RFC 8259, and the limits.
    /// - Returns: the value.
    /// - Throws: ``JSONParseError`` at the first fault.
    public static func parse(_ document: some Collection<UInt8>, options: Options) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: Array(document), options: options, itemOptions: nil)
        return try parser.parseDocument()
    }

    /// Parses a document holding one value or an array of values, returning each item with its byte range.
    ///
    /// Each item is read with `itemOptions` where they accept it. A fault that they refuse but `options`
    /// accept is not an error of the document: the first such fault becomes the item's
    /// ``Batch/Item/violation``, with offsets as if the item were parsed alone, and the item is read on with
    /// `options`. In one pass, that gives what a lenient reading of the whole and then a strict reading of
    /// each item would: one bad message in a batch is named, the others are still read.
    /// - Parameters:
    ///   - document: the bytes, UTF-8.
    ///   - options: what the document as a whole must satisfy.
    ///   - itemOptions: what each item must satisfy; usually stricter. `nil` checks nothing more.
    /// - Throws: ``JSONParseError`` at the first fault that `options` refuse.
    public static func parseBatch(
        _ document: some Collection<UInt8>,
        options: Options,
        itemOptions: Options? = nil
    ) throws(JSONParseError) -> Batch {
        var items: [Batch.Item] = []
        let shape = try forEachItem(of: document, options: options, itemOptions: itemOptions) { items.append($0) }
        return Batch(value: shape == .array ? .array(items.map(\.value)) : items[0].value, items: items)
    }

    /// Reads a batch as ``parseBatch(_:options:itemOptions:)`` does, handing each item to `body` as soon as it is read
    /// and keeping none: what a batch of 10,000 messages costs in memory is one message's value at a time.
    /// - Returns: whether the document is an array (each element an item, `body` called once per element, maybe
    ///   never) or a single value (the one item).
    /// - Throws: ``JSONParseError`` at the first fault that `options` refuse; `body` has seen the items before it.
    @discardableResult
    public static func forEachItem(
        of document: some Collection<UInt8>,
        options: Options,
        itemOptions: Options? = nil,
        _ body: @escaping (Batch.Item) -> Void
    ) throws(JSONParseError) -> Batch.Shape {
        var parser = JSONParser(bytes: Array(document), options: options, itemOptions: itemOptions, onItem: body)
        return try parser.parseBatchDocument()
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        try skipByteOrderMark()
        skipWhitespace()
        let value = try parseValue(followedBy: nil)
        try expectEnd()
        return value
    }

    /// A batch: an array whose elements are the items, or a single value that is the one item.
    private mutating func parseBatchDocument() throws(JSONParseError) -> Batch.Shape {
        let hasByteOrderMark = try skipByteOrderMark()
        skipWhitespace()
        let shape: Batch.Shape
        if peek() == UInt8(ascii: "[") {
            try parseBatchArray()
            shape = .array
        } else {
            // Not an array: the document is the batch's one item, byte order mark included.
            beginItem(at: 0)
            if hasByteOrderMark, itemRules?.byteOrderMark == .refuse { record(.byteOrderMark, at: 0) }
            let value = try parseValue(followedBy: nil)
            endItem(value, bytes: 0..<bytes.count)
            shape = .single
        }
        try expectEnd()
        return shape
    }

    /// Skips a byte order mark where the options allow one; returns whether there was one.
    @discardableResult
    private mutating func skipByteOrderMark() throws(JSONParseError) -> Bool {
        guard bytes.starts(with: [0xEF, 0xBB, 0xBF]) else { return false }
        guard options.byteOrderMark == .skip else { throw error(.byteOrderMark, at: 0) }
        position = 3
        textStart = 3
        return true
    }

    /// Nothing but whitespace may follow the document's value.
    private mutating func expectEnd() throws(JSONParseError) {
        skipWhitespace()
        guard position == bytes.count else { throw error(.trailingData) }
    }

    /// A value; `next` is what the grammar wants after it (`nil`: the end of the document).
    private mutating func parseValue(followedBy next: JSONParseError.Reason.Expectation?) throws(JSONParseError) -> JSONValue {
        guard let byte = peek() else { throw expected(.value) }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        // A batch item reads NaN as its own options do (null in a message): the value it would have alone.
        case UInt8(ascii: "N"): return try literal("NaN", (itemRules ?? options).nonFiniteNumbers == .nanAsNull ? .null : .number("NaN"))
        case UInt8(ascii: "I"): return try infinity("Infinity")
        case UInt8(ascii: "-") where bytes[position...].starts(with: "-Infinity".utf8): return try infinity("-Infinity")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber(followedBy: next)
        default: throw expected(.value)
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        let isEmpty = try enterContainer(closedBy: UInt8(ascii: "}"))
        defer { depth -= 1 }
        if isEmpty { return .object([]) }
        let isRoot = depth - rootDepth == 1
        var members: [JSONValue.Member] = []
        var indices: [String: Int] = [:]
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw expected(.key) }
            let keyOffset = position
            let key = try parseString()
            let index = indices[key]
            if index != nil {
                if isRoot { rootKey = key }
                try enforce(at: keyOffset) { $0.duplicateKeys == .refuse ? .duplicateKey(topLevel: isRoot) : nil }
            }
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw expected(.colon) }
            position += 1
            skipWhitespace()
            if isRoot { rootKey = key }
            let value = try parseValue(followedBy: .commaOrObjectEnd)
            if isRoot { rootKey = nil }
            if let index {
                members[index].value = value
            } else {
                indices[key] = members.count
                members.append(JSONValue.Member(key: key, value: value))
            }
            if try closes(UInt8(ascii: "}"), inObject: true) { return .object(members) }
        }
    }

    /// An array value.
    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        let isEmpty = try enterContainer(closedBy: UInt8(ascii: "]"))
        defer { depth -= 1 }
        if isEmpty { return .array([]) }
        var elements: [JSONValue] = []
        while true {
            skipWhitespace()
            elements.append(try parseValue(followedBy: .commaOrArrayEnd))
            if try closes(UInt8(ascii: "]"), inObject: false) { return .array(elements) }
        }
    }

    /// The batch's array: each element is an item, handed on as soon as it is read.
    private mutating func parseBatchArray() throws(JSONParseError) {
        let isEmpty = try enterContainer(closedBy: UInt8(ascii: "]"))
        defer { depth -= 1 }
        if isEmpty { return }
        while true {
            skipWhitespace()
            let start = position
            beginItem(at: start)
            let value = try parseValue(followedBy: .commaOrArrayEnd)
            endItem(value, bytes: start..<position)
            if try closes(UInt8(ascii: "]"), inObject: false) { return }
        }
    }

    /// After a member or an element: `true` when `closer` ends the container (consumed), `false` after a comma.
    private mutating func closes(_ closer: UInt8, inObject: Bool) throws(JSONParseError) -> Bool {
        skipWhitespace()
        if peek() == closer {
            position += 1
            return true
        }
        guard peek() == UInt8(ascii: ",") else { throw expected(inObject ? .commaOrObjectEnd : .commaOrArrayEnd) }
        position += 1
        skipWhitespace()
        if peek() == closer { throw error(.trailingComma(inObject: inObject)) }
        return false
    }

    /// Consumes the opening bracket, checking the nesting limits first (so a deep document fails fast);
    /// `true` when the container is empty, its `closer` consumed too.
    private mutating func enterContainer(closedBy closer: UInt8) throws(JSONParseError) -> Bool {
        guard depth < options.maximumDepth else { throw error(.nestingTooDeep(maximum: options.maximumDepth)) }
        if let maximum = itemRules?.maximumDepth, depth - rootDepth >= maximum { record(.nestingTooDeep(maximum: maximum), at: position) }
        depth += 1
        position += 1
        skipWhitespace()
        guard peek() == closer else { return false }
        position += 1
        return true
    }

    // MARK: Numbers and literals

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; integers that fit become ``JSONValue/integer(_:)``.
    private mutating func parseNumber(followedBy next: JSONParseError.Reason.Expectation?) throws(JSONParseError) -> JSONValue {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else {
            if peek() == UInt8(ascii: "I") { throw error(.unexpectedCharacter(expecting: .value), pythonAt: start) }
            throw error(.invalidNumber(then: .value), pythonAt: start)
        }
        position += 1
        if first != UInt8(ascii: "0") {
            skipDigits()
        } else if let byte = peek(), isDigit(byte) {
            throw cutShort(needingDigitAt: position, followedBy: next)
        }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            guard position + 1 < bytes.count, isDigit(bytes[position + 1]) else { throw cutShort(needingDigitAt: position + 1, followedBy: next) }
            isInteger = false
            position += 1
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            var digits = position + 1
            if digits < bytes.count, bytes[digits] == UInt8(ascii: "+") || bytes[digits] == UInt8(ascii: "-") { digits += 1 }
            guard digits < bytes.count, isDigit(bytes[digits]) else { throw cutShort(needingDigitAt: digits, followedBy: next) }
            isInteger = false
            position = digits
            skipDigits()
        }
        let length = position - start
        try enforce(at: start) { length > $0.maximumNumberLength ? .numberTooLong(maximum: $0.maximumNumberLength) : nil }
        let literal = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let value = Int64(literal) { return .integer(value) }
        return .number(literal)
    }

    /// A malformed number, where a digit is missing; Python reads it up to here, then stumbles on what follows.
    private func cutShort(needingDigitAt offset: Int, followedBy next: JSONParseError.Reason.Expectation?) -> JSONParseError {
        error(.invalidNumber(then: next), at: offset, pythonAt: position)
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private mutating func literal(_ text: String, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
        guard bytes[position...].starts(with: text.utf8) else { throw error(.unexpectedCharacter(expecting: .value)) }
        position += text.utf8.count
        return value
    }

    /// `Infinity` or `-Infinity`, as ``Options/NonFiniteNumbers`` says.
    private mutating func infinity(_ token: String) throws(JSONParseError) -> JSONValue {
        let start = position
        let value = try literal(token, .number(token))
        try enforce(at: start) { $0.nonFiniteNumbers == .nanAsNull ? .infinity : nil }
        return value
    }

    private mutating func skipWhitespace() {
        while let byte = peek(),
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
        {
            position += 1
        }
    }

    func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    // MARK: Options and errors

    /// Applies one rule of the options: `refusal` gives the reason an options set refuses what is at
    /// `offset`, or `nil`. The document's options throw; the current item's options record the item's violation.
    mutating func enforce(at offset: Int, _ refusal: (Options) -> JSONParseError.Reason?) throws(JSONParseError) {
        if let reason = refusal(options) { throw error(reason, at: offset) }
        if let rules = itemRules, let reason = refusal(rules) { record(reason, at: offset) }
    }

    private mutating func beginItem(at start: Int) {
        itemStart = start
        itemRules = itemOptions
        itemViolation = nil
        rootDepth = depth
    }

    private mutating func endItem(_ value: JSONValue, bytes range: Range<Int>) {
        onItem?(Batch.Item(value: value, bytes: range, violation: itemViolation))
        itemRules = nil
        rootDepth = 0
    }

    /// Keeps the first fault of the current item.
    private mutating func record(_ reason: JSONParseError.Reason, at offset: Int) {
        if itemViolation == nil { itemViolation = error(reason, at: offset, from: itemStart) }
    }

    private func expected(_ expectation: JSONParseError.Reason.Expectation) -> JSONParseError {
        error(peek() == nil ? .unexpectedEnd(expecting: expectation) : .unexpectedCharacter(expecting: expectation))
    }

    /// An error at `offset` (by default where the parser stands), Python placing it at `pythonAt`; offsets count from `base`.
    func error(_ reason: JSONParseError.Reason, at offset: Int? = nil, pythonAt: Int? = nil, from base: Int = 0) -> JSONParseError {
        let offset = offset ?? position
        let textStart = max(base, self.textStart)
        let characters = bytes[textStart..<max(textStart, min(pythonAt ?? offset, bytes.count))].count(where: { $0 & 0xC0 != 0x80 })
        return JSONParseError(reason: reason, offset: offset - base, characterOffset: characters, topLevelKey: rootKey)
    }
}

extension JSONParser {
    /// A document read as one value or an array of values: the items of ``JSONParser/parseBatch(_:options:itemOptions:)``.
    public struct Batch: Sendable {
        /// Whether a batch document is an array of items or a single one.
        public enum Shape: Sendable, Hashable {
            case array
            case single
        }

        public var value: JSONValue
        /// The array's elements, or the document itself when it is not an array.
        public var items: [Item]

        /// One value of the batch.
        public struct Item: Sendable {
            public var value: JSONValue
            /// Where the item stands in the document (the whole document when it is not an array).
            public var bytes: Range<Int>
            /// The first fault in the item that the item options refuse and the document's accept, offsets
            /// counted from the item's first byte; `nil` when there is none.
            public var violation: JSONParseError?
        }
    }
}
