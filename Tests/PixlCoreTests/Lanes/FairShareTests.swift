import PixlCore
import Testing

/// The fair share between projects: turns go round the projects with work, `weight` times as often for a heavier one,
/// a newcomer starts level with the others, and a project with nothing due banks no credit.
struct FairShareTests {
    /// Who gets the next `count` turns when every project always has a due job.
    func turns(_ share: inout FairShare, among projects: Set<String>, count: Int) -> [String] {
        (0..<count).map { _ in
            let order = share.order(of: projects)
            share.claimed(order[0], from: order)
            return order[0]
        }
    }

    @Test func equalProjectsAlternate() {
        var share = FairShare(weights: ProjectWeights())
        _ = turns(&share, among: ["big"], count: 1000)
        let next = turns(&share, among: ["big", "new"], count: 20)
        #expect(next.filter { $0 == "new" }.count == 10, "a newcomer behind 1,000 claims starts level, not behind")
        #expect(zip(next, next.dropFirst()).allSatisfy { $0 != $1 })
    }

    @Test func weightsSetTheShares() throws {
        var share = FairShare(weights: try ProjectWeights(parsing: "big-extract=1,urgent-audit=4", variable: "PIXL_PROJECT_WEIGHTS"))
        let next = turns(&share, among: ["big-extract", "urgent-audit"], count: 50)
        #expect(next.filter { $0 == "urgent-audit" }.count == 40)
    }

    @Test func aProjectWithNothingDueBanksNoCredit() {
        var share = FairShare(weights: ProjectWeights())
        // "night" has jobs (deferred, not due) all along: each of its turns passes to "day".
        for _ in 0..<100 {
            let order = share.order(of: ["day", "night"])
            share.claimed("day", from: order)
        }
        let next = turns(&share, among: ["day", "night"], count: 10)
        #expect(next.filter { $0 == "night" }.count == 5, "once due, it shares; it does not take the next 100 claims")
    }

    @Test func weightsAreParsedStrictly() {
        for text in ["a=0", "a=1001", "a", "=1", "a=one", "a=1,,b=2"] {
            #expect(throws: ConfigurationError.self) { try ProjectWeights(parsing: text, variable: "PIXL_PROJECT_WEIGHTS") }
        }
    }
}
