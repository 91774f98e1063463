namespace ClusterQueue.Results;

/// <summary>Decides whether an incoming state may replace a stored one.</summary>
internal static class ResultPrecedence
{
    // Out-of-order delivery is normal (events and results race, a hard time limit sends FAILURE twice).
    // Only a ready state is protected, because RETRY -> STARTED -> SUCCESS legitimately goes "down" before
    // it goes up. A ready state gives way only to a ready state of equal or higher precedence: Celery ranks
    // custom states above REVOKED, but a result that was ready must never become not ready again.
    public static bool Accepts(string storedStatus, string incomingStatus) =>
        !TaskStates.IsReady(storedStatus)
        || (TaskStates.IsReady(incomingStatus) && TaskStates.Precedence(incomingStatus) >= TaskStates.Precedence(storedStatus));
}
