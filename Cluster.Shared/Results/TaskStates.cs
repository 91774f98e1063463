namespace ClusterQueue.Results;

/// <summary>Celery's task state names and their precedence (celery.states).</summary>
public static class TaskStates
{
    public const string Pending = "PENDING";
    public const string Received = "RECEIVED";
    public const string Started = "STARTED";
    public const string Success = "SUCCESS";
    public const string Failure = "FAILURE";
    public const string Retry = "RETRY";
    public const string Revoked = "REVOKED";
    public const string Rejected = "REJECTED";

    /// <summary>States after which a task's result no longer changes.</summary>
    public static bool IsReady(string state) => state is Success or Failure or Revoked;

    /// <summary>States whose result is an exception that <c>get()</c> raises.</summary>
    public static bool Propagates(string state) => state is Failure or Revoked;

    /// <summary>
    /// Celery's precedence, higher wins: PENDING &lt; RETRY &lt; REJECTED &lt; RECEIVED &lt; STARTED &lt; REVOKED
    /// &lt; any custom state &lt; FAILURE &lt; SUCCESS. An out-of-order event of lower precedence does not overwrite a state.
    /// </summary>
    public static int Precedence(string state) => state switch
    {
        Pending => 0,
        Retry => 1,
        Rejected => 2,
        Received => 3,
        Started => 4,
        Revoked => 5,
        Failure => 7,
        Success => 8,
        _ => 6,
    };
}
