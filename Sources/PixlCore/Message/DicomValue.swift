/// The rules a value must meet to travel through a C-FIND or C-MOVE exactly as written (SPEC §2), and the
/// comparison of an archive's answer with what was asked.
///
/// orthanc-raw re-encodes every query key in its query character set; characters outside it vanish, and a
/// key made only of them becomes empty, which a C-FIND treats as "any". These checks keep such values out.
public enum DicomValue {
    /// DICOM VR UI: at most 64 characters.
    public static let maximumUIDLength = 64

    /// Whether `text` is a DICOM UID (VR UI, PS3.5 §9.1): digits and dots, 1 to 64 characters, no empty
    /// component, and no leading zero in a component other than `0` itself.
    public static func isUID(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumUIDLength else { return false }
        var componentStart = true
        var componentIsZero = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "."):
                if componentStart { return false }
                componentStart = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if componentStart {
                    componentIsZero = byte == UInt8(ascii: "0")
                    componentStart = false
                } else if componentIsZero {
                    return false
                }
            default:
                return false
            }
        }
        return !componentStart
    }

    /// Why `text` cannot be a matching key of VR LO or SH, or `nil` when it can: printable ASCII (0x20 to
    /// 0x7E) without `\` (a value separator), `*` or `?` (wildcards), at most `maximumLength` characters.
    public static func keyTextProblem(_ text: String, maximumLength: Int) -> KeyTextProblem? {
        var count = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "\\"): return .wildcard
            case 0x20...0x7E: count += 1
            default: return .notPrintableASCII
            }
        }
        return count > maximumLength ? .tooLong : nil
    }

    public enum KeyTextProblem: Sendable, Hashable {
        case wildcard
        case notPrintableASCII
        case tooLong
    }

    /// A value as DICOM compares it: without the padding of its even length (a trailing space for text,
    /// a trailing NUL for UIDs) nor leading spaces, which are not significant in LO, SH or UI.
    public static func trimmingPadding(_ text: String) -> Substring {
        var scalars = Substring(text)
        while let first = scalars.first, first == " " || first == "\0" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\0" { scalars.removeLast() }
        return scalars
    }

    /// Whether an archive's value equals the one asked for, padding aside. An absent value never does.
    public static func equals(_ answered: String?, _ asked: String) -> Bool {
        guard let answered else { return false }
        return trimmingPadding(answered) == trimmingPadding(asked)
    }
}
