namespace ClusterQueue.Results;

/// <summary>Decides whether an incoming state may replace a stored one.</summary>
internal static class ResultPrecedence
{
    // Out-of-order delivery is normal (events and results race, a hard time limit sends FAILURE twice);
    // only a ready state is protected, because RETRY -> STARTED -> SUCCESS legitimately goes "down" before it goes up.
    public static bool Accepts(string storedStatus, string incomingStatus) =>
        !TaskStates.IsReady(storedStatus) || TaskStates.Precedence(incomingStatus) >= TaskStates.Precedence(storedStatus);
}
