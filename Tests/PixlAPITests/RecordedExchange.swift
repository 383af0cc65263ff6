import Foundation
import HTTPTypes

/// One request/response pair of `Fixtures/pixl-imaging-http.md` (recorded against PIXL's FastAPI service).
struct RecordedExchange: Sendable, CustomStringConvertible {
    struct RecordedRequest: Sendable {
        var method: HTTPRequest.Method
        var path: String
        var headers: [(String, String)]
        var body: String?
    }

    struct RecordedResponse: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: String
        /// The fixture shows only the start of the body, and its total length.
        var truncatedTotalLength: Int?

        var contentType: String? { headers.first { $0.0.lowercased() == "content-type" }?.1 }
    }

    var number: Int
    var request: RecordedRequest
    var response: RecordedResponse

    var description: String { "#\(number) \(request.method) \(request.path)" }

    static var fixturesDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    /// Parses the "Exact exchanges" section: `### N. …` followed by two ```http blocks.
    static func load() throws -> [RecordedExchange] {
        let text = try String(contentsOf: fixturesDirectory.appendingPathComponent("pixl-imaging-http.md"), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        var exchanges: [RecordedExchange] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard line.hasPrefix("### "), let dot = line.firstIndex(of: "."),
                let number = Int(line[line.index(line.startIndex, offsetBy: 4)..<dot])
            else {
                index += 1
                continue
            }
            var blocks: [[String]] = []
            index += 1
            while blocks.count < 2, index < lines.count {
                if lines[index] == "```http" {
                    var block: [String] = []
                    index += 1
                    while index < lines.count, lines[index] != "```" {
                        block.append(lines[index])
                        index += 1
                    }
                    blocks.append(block)
                }
                index += 1
            }
            guard blocks.count == 2 else { throw FixtureError(description: "exchange \(number) lacks its blocks") }
            exchanges.append(try RecordedExchange(number: number, request: blocks[0], response: blocks[1]))
        }
        return exchanges
    }

    init(number: Int, request: [String], response: [String]) throws {
        self.number = number
        let (requestLine, requestHeaders, requestBody) = Self.split(request)
        let requestParts = requestLine.split(separator: " ", maxSplits: 1)
        guard requestParts.count == 2, let method = HTTPRequest.Method(String(requestParts[0])) else {
            throw FixtureError(description: "bad request line \(requestLine)")
        }
        self.request = RecordedRequest(method: method, path: String(requestParts[1]), headers: requestHeaders, body: requestBody)
        let (statusLine, responseHeaders, responseBody) = Self.split(response)
        let statusParts = statusLine.split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw FixtureError(description: "bad status line \(statusLine)") }
        var body = responseBody ?? ""
        var truncated: Int?
        if let range = body.range(of: "... ("), body.hasSuffix(" bytes total)") {
            truncated = Int(body[range.upperBound...].prefix { $0.isNumber })
            body = String(body[..<range.lowerBound])
        }
        self.response = RecordedResponse(status: status, headers: responseHeaders, body: body, truncatedTotalLength: truncated)
    }

    /// First line, headers up to the first blank line, then the body (`nil` when empty or "(empty body)").
    private static func split(_ block: [String]) -> (String, [(String, String)], String?) {
        var headers: [(String, String)] = []
        var index = 1
        while index < block.count, !block[index].isEmpty {
            let parts = block[index].split(separator: ":", maxSplits: 1)
            headers.append((String(parts[0]), parts.count > 1 ? String(parts[1].dropFirst()) : ""))
            index += 1
        }
        let bodyLines = index + 1 < block.count ? Array(block[(index + 1)...]) : []
        let body = bodyLines.joined(separator: "\n")
        if body.isEmpty || body == "(empty body)" { return (block[0], headers, nil) }
        return (block[0], headers, body)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}
