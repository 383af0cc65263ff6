import Foundation
import Testing

@testable import PixlCore

/// Seeded random mutations of the good samples: every body must decode to a valid message or fail with
/// a ``MessageDecodingError``, without crashing or stalling, and a batch must read each of its items as
/// the item would be read alone. Set `PIXL_FUZZ_SEED` to replay a run.
struct MessageDecoderFuzzTests {
    static let iterations = 20_000

    @Test(.timeLimit(.minutes(1)))
    func mutatedBodiesDecodeOrFailCleanly() throws {
        let samples = try Self.samples()
        var decoded = 0
        Self.forEachMutation(of: samples) { iteration, body, _, seed in
            let message: ImagingMessage
            do {
                message = try MessageDecoder.decode(body)
            } catch {
                return  // A MessageDecodingError, the only error `decode` can throw: the outcome we want.
            }
            decoded += 1
            #expect((try? message.validated()) == message, "iteration \(iteration), seed \(seed)")
            #expect((try? MessageDecoder.decode(message.plainJSON().utf8)) == message, "iteration \(iteration), seed \(seed)")
        }
        print("MessageDecoderFuzzTests: \(decoded) of \(Self.iterations) mutated bodies still decoded")
    }

    /// A batch, read with Python's options and each item held to a message's (as `POST /messages` reads a body),
    /// gives each item what parsing it alone with a message's options gives: the same value, or its first fault.
    @Test(.timeLimit(.minutes(1)))
    func batchItemsReadAsTheyWouldAlone() throws {
        let samples = try Self.samples()
        Self.forEachMutation(of: samples) { iteration, body, random, seed in
            var document = body
            if random.next(below: 2) == 0 {
                // One element of an array, after a good message.
                let other = samples[Int(random.next(below: UInt64(samples.count)))]
                document = Array("[".utf8) + other + Array(", ".utf8) + body + Array("]".utf8)
            }
            let batch: JSONParser.Batch
            do throws(JSONParseError) {
                batch = try JSONParser.parseBatch(document, options: .python, itemOptions: .message)
            } catch {
                // What Python's options refuse, a message's refuse too; and parseBatch fails as parse does.
                #expect((try? JSONParser.parse(document, options: .message)) == nil, "iteration \(iteration), seed \(seed)")
                let plain = JSONParserTests.error(document, options: .python)
                #expect(plain.map { [$0.offset, $0.characterOffset] } == [error.offset, error.characterOffset], "iteration \(iteration)")
                #expect(plain?.reason == error.reason, "iteration \(iteration), seed \(seed)")
                return
            }
            for item in batch.items {
                switch Result(catching: { () throws(JSONParseError) in try JSONParser.parse(document[item.bytes], options: .message) }) {
                case .success(let value):
                    #expect(item.violation == nil && item.value == value, "iteration \(iteration), seed \(seed)")
                case .failure(let error):
                    #expect(item.violation == error, "iteration \(iteration), seed \(seed)")
                }
            }
        }
    }

    /// The good bodies and their plain JSON.
    static func samples() throws -> [[UInt8]] {
        var samples = try PixlMessageFixtures.goodNames.map(PixlMessageFixtures.body)
        samples += samples.compactMap { try? MessageDecoder.decode($0).plainJSON() }.map { Array($0.utf8) }
        #expect(samples.count > 80)
        return samples
    }

    /// Calls `check` with ``iterations`` mutated samples, the generator (for more choices) and the seed.
    static func forEachMutation(of samples: [[UInt8]], _ check: (Int, [UInt8], inout SplitMix64, UInt64) -> Void) {
        let seed = ProcessInfo.processInfo.environment["PIXL_FUZZ_SEED"].flatMap(UInt64.init) ?? 0x5049_584C_2024
        print("MessageDecoderFuzzTests seed: \(seed) (replay with PIXL_FUZZ_SEED=\(seed))")
        var random = SplitMix64(seed: seed)
        for iteration in 0..<Self.iterations {
            var body = samples[Int(random.next(below: UInt64(samples.count)))]
            // Mostly one mutation, so that many bodies stay close to valid and reach the decoder's later stages.
            let mutations = random.next(below: 4) == 0 ? 2 + random.next(below: 2) : 1
            for _ in 0..<mutations {
                Mutation.allCases[Int(random.next(below: UInt64(Mutation.allCases.count)))].apply(to: &body, samples: samples, random: &random)
            }
            check(iteration, body, &random, seed)
        }
    }

    enum Mutation: CaseIterable {
        case replaceByte, flipBit, insertToken, deleteRange, truncate, splice, duplicateRange, duplicateKey, nest, replaceValue

        /// Fragments likely to hit parser and decoder edge cases.
        static let tokens: [[UInt8]] = [
            "{", "}", "[", "]", "\"", "\\", ",", ":", "NaN", "Infinity", "-", "0", "1e999", "9223372036854775808", "\\ud800",
            "\\u00", "null", "{\"py/id\": 0}", "{\"py/id\": 3}", "\"py/object\": \"os.system\", ", "\u{FEFF}", "é", "*", "?",
        ].map { Array($0.utf8) } + [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0x00], [0x0A]]

        /// Values to put where another value was.
        static let values: [String] = [
            "NaN", "null", "-1", "1.5", "\"\"", "\"234\"", "[]", "{}", "{\"py/id\": 1}", "{\"py/id\": 2}", "{\"py/id\": -1}",
            #"{"py/reduce": [{"py/function": "os.system"}, {"py/tuple": ["true"]}]}"#,
            #"{"py/object": "datetime.date", "__reduce__": [{"py/type": "datetime.date"}, ["B+YBAQ=="]]}"#,
            #"{"py/reduce": [{"py/function": "zoneinfo.ZoneInfo._unpickle"}, {"py/tuple": ["Europe/London", 1]}]}"#,
            #"{"py/reduce": [{"py/function": "zoneinfo.ZoneInfo._unpickle"}, {"py/tuple": ["../../../etc/passwd", 1]}]}"#,
            #"{"py/reduce": [{"py/type": "datetime.timedelta"}, {"py/tuple": [-9223372036854775808, 0, 0]}]}"#,
            #"{"py/reduce": [{"py/function": "pandas._libs.tslibs.timestamps._unpickle_timestamp"}, {"py/tuple": [-9223372036854775808, null, null, 7]}]}"#,
            #"{"py/reduce": [{"py/function": "pandas._libs.tslibs.timestamps._unpickle_timestamp"}, {"py/tuple": [9223372036854775807, null, {"py/id": 2}, 10]}]}"#,
        ]

        func apply(to body: inout [UInt8], samples: [[UInt8]], random: inout SplitMix64) {
            let position = Int(random.next(below: UInt64(body.count + 1)))
            switch self {
            case .replaceByte where !body.isEmpty:
                body[min(position, body.count - 1)] = UInt8(truncatingIfNeeded: random.next())
            case .flipBit where !body.isEmpty:
                body[min(position, body.count - 1)] ^= 1 << random.next(below: 8)
            case .insertToken:
                body.insert(contentsOf: Self.tokens[Int(random.next(below: UInt64(Self.tokens.count)))], at: position)
            case .deleteRange:
                body.removeSubrange(position..<min(body.count, position + Int(random.next(below: 16)) + 1))
            case .truncate:
                body.removeSubrange(position...)
            case .splice:
                let other = samples[Int(random.next(below: UInt64(samples.count)))]
                body = Array(body[..<position] + other[Int(random.next(below: UInt64(other.count + 1)))...])
            case .duplicateRange:
                let end = min(body.count, position + Int(random.next(below: 64)))
                let copy = Array(body[position..<end])
                body.insert(contentsOf: copy, at: Int(random.next(below: UInt64(body.count + 1))))
            case .duplicateKey:
                let keys = ["mrn", "study_uid", "procedure_occurrence_id", "py/object", "__reduce__", "py/tuple"]
                let member = "\"\(keys[Int(random.next(below: UInt64(keys.count)))])\": \"x\", "
                if let brace = body.firstIndex(of: UInt8(ascii: "{")) { body.insert(contentsOf: member.utf8, at: brace + 1) }
            case .nest:
                let depth = Int(random.next(below: 40)) + 1
                body = Array(String(repeating: "[", count: depth).utf8) + body + Array(String(repeating: "]", count: depth).utf8)
            case .replaceValue:
                // Replace the value after a `": "` with another one, up to the next `,` or `}`.
                guard let colon = body[position...].firstIndex(of: UInt8(ascii: ":")) else { return }
                let end = body[(colon + 1)...].firstIndex { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "}") } ?? body.count
                let value = " " + Self.values[Int(random.next(below: UInt64(Self.values.count)))]
                body.replaceSubrange((colon + 1)..<end, with: value.utf8)
            default:
                return
            }
        }
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64), so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0 ..< bound` (bound > 0); the slight modulo bias does not matter here.
    mutating func next(below bound: UInt64) -> UInt64 {
        next() % bound
    }
}
