/// The program's version, recorded in runs and manifests.
public enum RetentionVersion {
    public static let current = "0.1.0"
}
