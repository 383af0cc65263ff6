import Foundation
import PixlCore

/// A run's figures: throughput and the median and 95th percentile of per-study times.
struct Figures: Encodable {
    let concurrency: Int
    let studies: Int
    let seconds: Double
    let studiesPerSecond: Double
    let p50Milliseconds: Double
    let p95Milliseconds: Double

    init(durations: [Duration], elapsed: Duration, concurrency: Int) {
        let milliseconds = durations.map(\.inMilliseconds).sorted()
        self.concurrency = concurrency
        studies = durations.count
        seconds = elapsed.seconds
        studiesPerSecond = seconds > 0 ? Double(studies) / seconds : 0
        p50Milliseconds = Self.percentile(milliseconds, 0.50)
        p95Milliseconds = Self.percentile(milliseconds, 0.95)
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }

    enum CodingKeys: String, CodingKey {
        case concurrency, studies, seconds
        case studiesPerSecond = "studies_per_second"
        case p50Milliseconds = "p50_ms"
        case p95Milliseconds = "p95_ms"
    }
}

/// A report as the one JSON line a benchmark prints, keys sorted.
func jsonLine(_ report: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(report), as: UTF8.self)
}

extension Duration {
    /// The duration in milliseconds, as the benchmarks report times.
    var inMilliseconds: Double { seconds * 1000 }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
