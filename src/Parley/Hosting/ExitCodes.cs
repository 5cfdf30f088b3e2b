namespace Parley.Hosting;

/// <summary>Process exit codes, stable for scripts and orchestrators.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Something failed at run time (database error during `migrate`, unhandled failure).</summary>
    public const int Failure = 1;

    /// <summary>The configuration or the command line is wrong; nothing was served.</summary>
    public const int ConfigurationError = 2;
}
