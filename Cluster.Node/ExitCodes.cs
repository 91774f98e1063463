namespace ClusterQueue.Node;

/// <summary>Process exit codes, following the BSD sysexits convention where one fits.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>A task or command failed, or no node answered.</summary>
    public const int Failure = 1;
    /// <summary>Bad command-line arguments (System.CommandLine's own parse errors also exit 1; see README).</summary>
    public const int Usage = 64;
    /// <summary>Input data was malformed, such as a JSON argument that does not parse.</summary>
    public const int DataError = 65;
    /// <summary>A feature is not available in this build.</summary>
    public const int NotAvailable = 69;
    /// <summary>A configuration file or setting was invalid.</summary>
    public const int ConfigError = 78;
}
