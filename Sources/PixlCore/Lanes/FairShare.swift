/// How a lane shares its claims between projects (issue 13): within a priority, due jobs are claimed in turn across the
/// projects that have some, each project's turn coming `weight` times as often (`PIXL_PROJECT_WEIGHTS`). Ten jobs of a
/// new project start within the next few claims even behind 100,000 of another.
///
/// Stride scheduling: each project has a pass that a claim of its job advances by `1 / weight`; the project with the
/// lowest pass has the next turn. A project that joins starts at the lowest pass, and a project that had nothing due
/// when its turn came is brought up to the pass of the one claimed instead, so idle time banks no credit (a project
/// deferred all night does not then take every claim until it has caught up).
public struct FairShare: Sendable {
    public let weights: ProjectWeights
    private var passes: [String: Double] = [:]

    public init(weights: ProjectWeights) {
        self.weights = weights
    }

    /// The projects in the order of their turns, from those with unfinished jobs; forgets the others.
    public mutating func order(of projects: Set<String>) -> [String] {
        passes = passes.filter { projects.contains($0.key) }
        let start = passes.values.min() ?? 0
        for project in projects where passes[project] == nil { passes[project] = start }
        return passes.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key)
    }

    /// A job of `project` was claimed from `order` (what ``order(of:)`` gave): its pass advances, and the projects tried
    /// before it, which had nothing due, lose that turn.
    public mutating func claimed(_ project: String, from order: [String]) {
        let pass = (passes[project] ?? passes.values.min() ?? 0) + 1 / weights.weight(of: project)
        for skipped in order.prefix(while: { $0 != project }) { passes[skipped] = max(passes[skipped] ?? 0, pass) }
        passes[project] = pass
    }
}

/// `PIXL_PROJECT_WEIGHTS`: how many turns each project has for one of a project of weight 1, e.g.
/// `big-extract=1,urgent-audit=4`. A project not named has weight 1.
public struct ProjectWeights: Sendable, Hashable {
    public private(set) var weights: [String: Double] = [:]

    public static let limits: ClosedRange<Double> = 0.01...1000

    public init() {}

    /// Parses `name=weight` pairs separated by commas.
    /// - Throws: ``ConfigurationError`` naming `variable` and the pair that is not valid.
    public init(parsing text: String, variable: String) throws(ConfigurationError) {
        for (number, pair) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let parts = pair.split(separator: "=", omittingEmptySubsequences: false)
            let name = parts.first.map { String($0).trimmingWhitespace() } ?? ""
            guard parts.count == 2, !name.isEmpty, name.utf8.count <= 255,
                let weight = Environment.decimal(String(parts[1]).trimmingWhitespace()), Self.limits.contains(weight)
            else {
                throw ConfigurationError(
                    variable: variable,
                    problem: "entry \(number + 1) must be project=weight with a weight from 0.01 to 1000, as in big-extract=1,urgent-audit=4"
                )
            }
            weights[name] = weight
        }
    }

    public func weight(of project: String) -> Double { weights[project] ?? 1 }
}
