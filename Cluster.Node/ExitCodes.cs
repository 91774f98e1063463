namespace ClusterQueue.Node;

/// <summary>Process exit codes, following the BSD sysexits convention where one fits.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked; a worker finished its warm shutdown.</summary>
    public const int Ok = 0;

    /// <summary>A task failed, a result was not there (or not in time), the demo lost a task, or an unexpected error.</summary>
    public const int Failure = 1;

    /// <summary>Bad command-line arguments: an unknown option, a missing argument, a value out of range, an unknown <c>--app</c> file.</summary>
    public const int Usage = 64;

    /// <summary>Input data was malformed, such as <c>--args</c> that is not a JSON array or an <c>--eta</c> that is not a date.</summary>
    public const int DataError = 65;

    /// <summary>The broker or result backend could not be reached or refused the request.</summary>
    public const int Unavailable = 69;

    /// <summary>A configuration file, setting, broker URL or result backend URL was invalid.</summary>
    public const int ConfigError = 78;
}
